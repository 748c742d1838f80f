"""A loopback stand-in for Nominatim and Baidu Maps geocoding v3, scriptable per test.

Import the fixture into a test module (`from geocoder_server import geocoder_server`) and
script answers with `server.answer(Found(lon, lat))` (all queries) or
`server.answer(NotFound(), query="...")` (one query). Several answers are used in order,
the last one repeating: `server.answer(HttpError(500), Found(120.1, 30.2))`.
Answers are written the way each real service writes them; `server.requests` counts calls.
"""
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

BAIDU_KEY = "test-ak"


@dataclass
class Found:
    lon: float  # in the provider's system: WGS-84 for Nominatim, BD-09 for Baidu
    lat: float
    delay: float = 0.0  # seconds before answering; beyond the client's timeout it times out


@dataclass
class NotFound:
    delay: float = 0.0


@dataclass
class HttpError:
    status: int = 500
    delay: float = 0.0


@dataclass
class Quota:
    """Over quota: Nominatim says HTTP 429, Baidu HTTP 200 with status 302."""
    delay: float = 0.0


@dataclass
class Refused:
    """Not allowed: Nominatim blocks with HTTP 403, Baidu says status 200 (unknown AK)."""
    delay: float = 0.0


@dataclass
class Request:
    path: str
    params: dict[str, str]

    @property
    def query(self) -> str:
        return self.params.get("q") or self.params.get("address") or ""


@dataclass
class StandIn:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    _script: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    def answer(self, *answers, query: str | None = None) -> None:
        """Answer queries containing `query` (or every query) with these answers in turn, the last repeating."""
        with self._lock:
            self._script[query] = list(answers)

    def config(self, provider: str, **extra) -> dict:
        """GEOCODER* settings pointing make_geocoder at this server."""
        return {"GEOCODER": provider, "GEOCODER_DOMAIN": self.domain, "GEOCODER_SCHEME": "http",
                "GEOCODER_API_KEY": BAIDU_KEY, "GEOCODER_USER_AGENT": "storematrix-tests",
                "GEOCODER_TIMEOUT_S": 0.2, "GEOCODER_MIN_DELAY_S": 0.0, **extra}

    def _next(self, query: str):
        with self._lock:
            scripted = [q for q in self._script if q is not None and q in query]
            queue = self._script[scripted[0]] if scripted else self._script.get(None) or [NotFound()]
            return queue.pop(0) if len(queue) > 1 else queue[0]


def _nominatim(answer, query: str) -> tuple[int, object]:
    if isinstance(answer, Found):
        return 200, [{"place_id": 1, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
                      "osm_type": "node", "osm_id": 1, "lat": f"{answer.lat:.7f}", "lon": f"{answer.lon:.7f}",
                      "class": "place", "type": "house", "importance": 0.5, "display_name": query,
                      "boundingbox": [str(answer.lat - .001), str(answer.lat + .001),
                                      str(answer.lon - .001), str(answer.lon + .001)]}]
    if isinstance(answer, NotFound):
        return 200, []
    if isinstance(answer, Quota):
        return 429, "Too Many Requests"
    if isinstance(answer, Refused):
        return 403, "Access blocked"
    return answer.status, "Internal Server Error"


def _baidu(answer, params: dict) -> tuple[int, object]:
    # Baidu reports its own errors with HTTP 200 and a status field.
    if not params.get("ak"):
        return 200, {"status": 101, "message": "AK参数不存在"}
    if params["ak"] != BAIDU_KEY or isinstance(answer, Refused):
        return 200, {"status": 200, "message": "APP不存在，AK有误请检查再重试"}
    if isinstance(answer, Found):
        return 200, {"status": 0, "result": {"location": {"lng": answer.lon, "lat": answer.lat},
                                             "precise": 1, "confidence": 80, "comprehension": 100, "level": "门址"}}
    if isinstance(answer, NotFound):
        return 200, {"status": 1, "msg": "Internal Service Error:无相关结果", "results": []}
    if isinstance(answer, Quota):
        return 200, {"status": 302, "message": "天配额超限，限制访问"}
    return answer.status, "Internal Server Error"


def _handler(server: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            request = Request(url.path, params)
            with server._lock:
                server.requests.append(request)
            answer = server._next(request.query)
            time.sleep(answer.delay)
            if url.path.rstrip("/") == "/search" and params.get("format") == "json":
                status, body = _nominatim(answer, request.query)
            elif url.path == "/geocoding/v3/" and params.get("output") == "json":
                status, body = _baidu(answer, params)
            else:
                status, body = 404, "Not Found"
            data = (json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8" if not isinstance(body, str)
                                 else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout) before the slow answer came

        def log_message(self, *args):
            pass
    return Handler


@pytest.fixture
def geocoder_server():
    """A running stand-in on 127.0.0.1 with a free port; stopped after the test."""
    stand_in = StandIn()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    httpd.daemon_threads = True
    stand_in.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield stand_in
    httpd.shutdown()
    httpd.server_close()
