"""A loopback stand-in for the WeCom group robot webhook, scriptable per test.

It answers POST /cgi-bin/webhook/send?key=... the way the real robot does: HTTP 200 with
{"errcode": 0, "errmsg": "ok"}, 40008 for an unknown msgtype, 44004 for empty content,
93000 for a key it does not know (a removed robot). Script other answers in order, the last
repeating: `robot.answer(RateLimited(), Ok())`, per key with `key=`. `robot.stop()` then
`robot.start()` plays a robot that is down for a while (connection refused) on the same port.
Every message that was answered errcode 0 is in `robot.delivered` (key, payload).

    from robot_server import robot  # the fixture
"""
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

PATH = "/cgi-bin/webhook/send"
KNOWN_TYPES = {"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"}


@dataclass
class Ok:
    pass


@dataclass
class Error:
    errcode: int
    errmsg: str = "error"


def RateLimited() -> Error:  # noqa: N802 - reads like the other answers
    return Error(45009, "api freq out of limit")


def Busy() -> Error:  # noqa: N802
    return Error(-1, "system busy")


def Gone() -> Error:  # noqa: N802
    return Error(93000, "invalid webhook url, hint: [robot removed]")


@dataclass
class HttpError:
    status: int = 500


@dataclass
class Slow:
    """Answer ok after `delay` seconds: beyond the client's timeout it times out."""
    delay: float = 0.5


@dataclass
class RobotStandIn:
    host: str = "127.0.0.1"
    port: int = 0
    delivered: list[tuple[str, dict]] = field(default_factory=list)
    requests: int = 0
    removed: set[str] = field(default_factory=set)
    _script: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def answer(self, *answers, key: str | None = None) -> None:
        """Answer calls (to `key`, or all) with these in turn, the last one repeating."""
        with self._lock:
            self._script[key] = list(answers)

    def remove(self, key: str) -> None:
        """The robot of this key was removed from its group: 93000 from now on."""
        self.removed.add(key)

    def messages(self, key: str | None = None) -> list[dict]:
        with self._lock:
            return [payload for k, payload in self.delivered if key is None or k == key]

    def _next_answer(self, key: str):
        with self._lock:
            self.requests += 1
            script = self._script.get(key) or self._script.get(None)
            if not script:
                return Ok()
            return script.pop(0) if len(script) > 1 else script[0]

    def handle(self, key: str, body: bytes) -> tuple[int, dict | None, float]:
        """(HTTP status, JSON answer, delay) for one call, recording what was delivered."""
        answer = self._next_answer(key)
        if isinstance(answer, HttpError):
            return answer.status, None, 0
        if isinstance(answer, Error):
            return 200, {"errcode": answer.errcode, "errmsg": answer.errmsg}, 0
        delay = answer.delay if isinstance(answer, Slow) else 0
        if key in self.removed or not key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, delay
        try:
            payload = json.loads(body.decode("utf-8"))
            kind = payload["msgtype"]
        except (ValueError, KeyError, TypeError):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}, delay
        if kind not in KNOWN_TYPES:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}, delay
        if not str((payload.get(kind) or {}).get("content", "x")).strip():
            return 200, {"errcode": 44004, "errmsg": "empty content"}, delay
        if delay:
            time.sleep(delay)  # the client gave up; like the real robot, the message may still land
        with self._lock:
            self.delivered.append((key, payload))
        return 200, {"errcode": 0, "errmsg": "ok"}, 0

    def start(self) -> "RobotStandIn":
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if parts.path != PATH:
                    self.send_response(404)
                    self.end_headers()
                    return
                key = parse_qs(parts.query).get("key", [""])[0]
                status, answer, delay = stand_in.handle(key, body)
                if delay:
                    time.sleep(delay)
                data = json.dumps(answer).encode() if answer is not None else b"<html>error</html>"
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if answer is not None else "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until start() again."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def webhook(key: str) -> str:
    """The stored URL of a robot: always the real WeCom address."""
    return f"https://qyapi.weixin.qq.com{PATH}?key={key}"


@pytest.fixture
def robot(app):
    """A running stand-in; the app sends robot calls to it (WECOM_ROBOT_BASE_URL)."""
    stand_in = RobotStandIn().start()
    previous = app.config.get("WECOM_ROBOT_BASE_URL")
    app.config["WECOM_ROBOT_BASE_URL"] = stand_in.base_url
    yield stand_in
    app.config["WECOM_ROBOT_BASE_URL"] = previous
    stand_in.stop()
