"""A client for the WeCom group robot (群机器人) webhook.

The robot is one URL, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..., that takes
a JSON POST ({"msgtype": "markdown", ...}) and answers HTTP 200 with {"errcode": 0, "errmsg": "ok"}
or an error code. Only that host is ever called (SSRF guard): a stored URL naming any other
host, port, scheme or path is refused before a socket is opened, and redirects are not followed.

Tests (and a staging robot) set WECOM_ROBOT_BASE_URL, e.g. http://127.0.0.1:8099: the stored
URL is still checked, then its path and key are sent to that base instead of the WeCom host.
"""
import http.client
import json
import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from matrix.communities.models import mask_secret_url

log = logging.getLogger(__name__)

ROBOT_HOST = "qyapi.weixin.qq.com"
ROBOT_PATH = "/cgi-bin/webhook/send"
MAX_ANSWER_BYTES = 64 * 1024
# -1 system busy, 45009 the robot's 20 messages a minute, 45033 too many concurrent calls.
TRANSIENT_CODES = {-1, 45009, 45033}
RATE_LIMITED = 45009
RATE_LIMIT_WAIT_S = 60  # WeCom counts 20 messages per robot per minute
KEY_QUERY = re.compile(r"key=[A-Za-z0-9_\-]{4,100}")


@dataclass(frozen=True)
class RobotResult:
    """What the robot said, reduced to what the outbox needs to decide."""

    ok: bool
    permanent: bool = False     # never retry; the group's robot needs fixing
    error: str = ""             # short, never contains the webhook key
    min_wait_s: float = 0.0     # the robot asked us to wait at least this long

    @classmethod
    def sent(cls) -> "RobotResult":
        return cls(ok=True)


class RefusedRobotUrl(ValueError):
    """The stored URL is not a WeCom robot webhook: calling it could reach any host."""


def is_robot_url(url: str | None) -> bool:
    """True for https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=... and nothing else."""
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return False
    return (parts.scheme == "https" and parts.hostname == ROBOT_HOST and port in (None, 443)
            and parts.netloc in (ROBOT_HOST, ROBOT_HOST + ":443") and parts.path == ROBOT_PATH
            and KEY_QUERY.fullmatch(parts.query) is not None and not parts.fragment)


class RobotClient:
    """POST messages to group robots; every failure comes back as a RobotResult, never raised."""

    def __init__(self, base_url_override: str | None = None, timeout: float = 5.0):
        self.timeout = timeout
        self.base = urlsplit(base_url_override) if base_url_override else None
        if self.base and (self.base.scheme not in ("http", "https") or not self.base.hostname):
            raise ValueError("WECOM_ROBOT_BASE_URL must look like http://127.0.0.1:8099")

    @classmethod
    def from_config(cls, config) -> "RobotClient":
        """The client the settings describe (WECOM_ROBOT_BASE_URL, WECOM_TIMEOUT_S)."""
        return cls(base_url_override=config.get("WECOM_ROBOT_BASE_URL") or None,
                   timeout=float(config.get("WECOM_TIMEOUT_S", 5.0)))

    def send(self, webhook_url: str, message: dict) -> RobotResult:
        """Deliver one message to the robot behind `webhook_url`."""
        if not is_robot_url(webhook_url):
            raise RefusedRobotUrl("not a WeCom robot webhook")
        masked = mask_secret_url(webhook_url)
        try:
            status, body = self._post(urlsplit(webhook_url.strip()), message)
        except (TimeoutError, socket.timeout):
            log.warning("robot %s: timed out after %ss", masked, self.timeout)
            return RobotResult(ok=False, error="timeout")
        except ConnectionRefusedError:
            log.warning("robot %s: connection refused", masked)
            return RobotResult(ok=False, error="connection refused")
        except (OSError, http.client.HTTPException) as e:
            log.warning("robot %s: %s", masked, type(e).__name__)
            return RobotResult(ok=False, error=f"network error ({type(e).__name__})")
        result = interpret(status, body)
        log.info("robot %s: %s", masked, "ok" if result.ok else result.error)
        return result

    def _post(self, target, message: dict) -> tuple[int, bytes]:
        scheme, host, port = target.scheme, target.hostname, target.port
        if self.base:
            scheme, host, port = self.base.scheme, self.base.hostname, self.base.port
        connection_class = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = connection_class(host, port, timeout=self.timeout)
        try:
            body = json.dumps(message, ensure_ascii=False).encode("utf-8")
            connection.request("POST", f"{target.path}?{target.query}", body=body,
                               headers={"Content-Type": "application/json; charset=utf-8"})
            response = connection.getresponse()
            return response.status, response.read(MAX_ANSWER_BYTES)
        finally:
            connection.close()


def interpret(status: int, body: bytes) -> RobotResult:
    """Map an HTTP answer of the robot to sent / retry / permanent failure."""
    if status >= 500 or status in (408, 429):
        wait = RATE_LIMIT_WAIT_S if status == 429 else 0
        return RobotResult(ok=False, error=f"HTTP {status}", min_wait_s=wait)
    if status != 200:
        return RobotResult(ok=False, permanent=True, error=f"HTTP {status}")
    try:
        answer = json.loads(body.decode("utf-8"))
        code = int(answer.get("errcode"))
    except (ValueError, TypeError, AttributeError):
        return RobotResult(ok=False, error="unreadable answer")
    if code == 0:
        return RobotResult.sent()
    error = f"errcode {code}: {str(answer.get('errmsg', ''))[:120]}".strip()
    if code in TRANSIENT_CODES:
        return RobotResult(ok=False, error=error, min_wait_s=RATE_LIMIT_WAIT_S if code == RATE_LIMITED else 0)
    # 93000 robot removed, 40008 bad message type, 44004 empty content and anything unknown.
    return RobotResult(ok=False, permanent=True, error=error)
