"""Gzip for pages and JSON when the client accepts it: a list page of 40-180 KB leaves as 4-16 KB.

A WSGI middleware rather than an after_request hook: the session and remember-me cookies are set
after every after_request hook has run, and an answer that sets a cookie is never compressed.
Compression runs on the same cores as the app, so the level stays low (1-4 cost about the same
per byte and gain little over each other on HTML); answers under MIN_BYTES are sent as they are.

BREACH: a compressed page that holds a secret (the CSRF token) and reflects what a request asked
for (a search box) leaks the secret to someone who can both make the victim's browser send many
requests and watch the sizes on the wire. Requests another site started (Sec-Fetch-Site
cross-site or same-site) are therefore answered uncompressed; the session cookie is SameSite=Lax
besides, so such requests rarely carry it.
"""
import gzip
import re

from flask import Flask

COMPRESSIBLE = ("text/html", "application/json")
MIN_BYTES = 1024
LEVEL = 3
_GZIP = re.compile(r"(?:^|,)\s*gzip\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*(?:,|$)", re.IGNORECASE)


def accepts_gzip(header: str) -> bool:
    """Accept-Encoding names gzip with a q above zero."""
    match = _GZIP.search(header or "")
    if not match:
        return False
    try:
        return match.group(1) is None or float(match.group(1)) > 0
    except ValueError:
        return False


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def _add_vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    vary = _header(headers, "Vary")
    if vary is None:
        return [*headers, ("Vary", "Accept-Encoding")]
    if "accept-encoding" in vary.lower() or vary.strip() == "*":
        return headers
    return [(k, f"{v}, Accept-Encoding" if k.lower() == "vary" else v) for k, v in headers]


def _eligible(environ: dict) -> bool:
    """The request may get a compressed answer: gzip accepted, not HEAD, not started by another site."""
    return (environ.get("REQUEST_METHOD") != "HEAD" and accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
            and environ.get("HTTP_SEC_FETCH_SITE", "same-origin") in ("same-origin", "none"))


def _compressible(status: str, headers: list[tuple[str, str]]) -> bool:
    """A whole (not streamed) HTML or JSON answer of some size, not encoded yet, setting no cookie."""
    length = _header(headers, "Content-Length")
    return (_kind(headers) in COMPRESSIBLE and not status.startswith(("204", "304"))
            and _header(headers, "Content-Encoding") is None and _header(headers, "Set-Cookie") is None
            and length is not None and length.isdigit() and int(length) >= MIN_BYTES)


class GzipMiddleware:
    """Wraps a WSGI app; see the module's docstring for what it compresses."""

    def __init__(self, app, *, level: int = LEVEL):
        self.app, self.level = app, level

    def __call__(self, environ, start_response):
        if not _eligible(environ):
            return self.app(environ, self._varying(start_response))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: captured.setdefault("written", []).append(data)  # write(): rare, kept in order

        body = self.app(environ, capture)
        headers = _add_vary(captured["headers"]) if _kind(captured["headers"]) in COMPRESSIBLE else captured["headers"]
        if not _compressible(captured["status"], captured["headers"]):
            start_response(captured["status"], headers, captured["exc_info"])
            return _chain(captured.get("written", []), body)
        try:
            data = b"".join([*captured.get("written", []), *body])
        finally:
            if hasattr(body, "close"):
                body.close()
        packed = gzip.compress(data, compresslevel=self.level, mtime=0)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(packed)))]
        start_response(captured["status"], headers, captured["exc_info"])
        return [packed]

    @staticmethod
    def _varying(start_response):
        """start_response that adds Vary: Accept-Encoding to compressible kinds (a cache must not mix them)."""
        def varying(status, headers, exc_info=None):
            if _kind(headers) in COMPRESSIBLE:
                headers = _add_vary(headers)
            return start_response(status, headers, exc_info)
        return varying


def _kind(headers: list[tuple[str, str]]) -> str:
    return (_header(headers, "Content-Type") or "").split(";")[0].strip().lower()


def _chain(written: list[bytes], body):
    """What the app wrote through write() first, then its body; closing the body when done."""
    if not written:
        return body
    return _Chained(written, body)


class _Chained:
    def __init__(self, written, body):
        self.written, self.body = written, body

    def __iter__(self):
        yield from self.written
        yield from self.body

    def close(self):
        if hasattr(self.body, "close"):
            self.body.close()


def register(app: Flask) -> None:
    app.wsgi_app = GzipMiddleware(app.wsgi_app)
