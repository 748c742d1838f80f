"""Rate limits every web process shares: sign-in, the lead webhooks and the public pages.

Counters live where RATELIMIT_STORAGE_URI says: Redis in production, so four processes on two
machines count together (an INCR with an expiry per window: cheap at 1,000 webhook calls a second,
where a row per call would load PostgreSQL), memory in development and tests. Built on `limits`,
one instance per app. A storage failure never refuses a request (a lead must not be lost because
Redis restarted): the call goes through and the failure is logged; `flask check` and /readyz test
the storage.
"""
import logging
import math
import time
from functools import wraps

from flask import Flask, current_app, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)
EXTENSION = "matrix.rate_limits"


class RateLimits:
    """Named limits ("sign_in": "20 per minute; 200 per hour") over one counter storage."""

    def __init__(self, storage_uri: str, limits: dict[str, str], *, enabled: bool = True):
        self.storage_uri = storage_uri
        # A Redis that hangs must not hang the request: half a second, then the call goes through unlimited.
        options = {"key_prefix": "storematrix", "socket_timeout": 0.5, "socket_connect_timeout": 0.5} \
            if storage_uri.startswith("redis") else {}
        self.storage = storage_from_string(storage_uri, **options)
        self.window = FixedWindowRateLimiter(self.storage)
        self.limits = {name: parse_many(text) for name, text in limits.items()}
        self.enabled = enabled
        self._last_error_log = 0.0

    def hit(self, name: str, key: str) -> int:
        """Count one call; 0 when it may go on, else the seconds until it may."""
        if not self.enabled:
            return 0
        try:
            for item in self.limits[name]:
                if not self.window.hit(item, name, key):
                    reset_at = self.window.get_window_stats(item, name, key).reset_time
                    return max(1, math.ceil(reset_at - time.time()))
        except Exception as error:  # noqa: BLE001 - Redis down or slow: serve, log now and then
            if time.monotonic() - self._last_error_log > 60:
                self._last_error_log = time.monotonic()
                log.warning("rate limit storage %s failed (%s): requests are not limited",
                            self.storage_uri.split("@")[-1], type(error).__name__)
        return 0

    def healthy(self) -> bool:
        try:
            return bool(self.storage.check())
        except Exception:  # noqa: BLE001 - the answer is "no"
            return False


def limits_of(app: Flask) -> RateLimits:
    return app.extensions[EXTENSION]


def client_address() -> str:
    """The caller's address: the socket's, or the one nginx saw (TRUSTED_PROXIES)."""
    return request.remote_addr or "-"


def rate_limited(name: str, *, methods: tuple[str, ...] = ("GET", "POST"), answer=None):
    """Decorate a view: past the named limit it answers 429 with Retry-After (or `answer(seconds)`)."""
    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            if request.method in methods:
                wait = limits_of(current_app).hit(name, client_address())
                if wait:
                    if answer is not None:
                        return answer(wait)
                    raise TooManyRequests(retry_after=wait)
            return view(*args, **kwargs)
        return limited
    return decorate


def register(app: Flask) -> None:
    app.extensions[EXTENSION] = RateLimits(app.config["RATELIMIT_STORAGE_URI"], app.config["RATE_LIMITS"],
                                           enabled=app.config.get("RATELIMIT_ENABLED", True))
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
