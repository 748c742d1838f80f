"""Request ids and logs without personal data.

Every request gets an id (the X-Request-ID nginx or a platform sent, if it looks like one, else a
new one), answered in the X-Request-ID header and written on every log line of that request, so
one delivery can be followed from nginx to the app. Log lines mask Chinese mobile numbers the way
the UI does (138****5678), whatever wrote them: a query string, an exception, a library.
"""
import logging
import re
import uuid

from flask import Flask, has_request_context, request

HEADER = "X-Request-ID"
FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# A mainland mobile number, with +86/0086 and the separators people type; not inside longer digit runs.
_MOBILE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\d])")


def mask_phones(text: str) -> str:
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def request_id() -> str:
    """This request's id (made on first use; '-' outside a request)."""
    if not has_request_context():
        return "-"
    environ = request.environ
    if "matrix.request_id" not in environ:
        given = request.headers.get(HEADER, "")
        environ["matrix.request_id"] = given if _GIVEN_ID.match(given) else uuid.uuid4().hex
    return environ["matrix.request_id"]


class RequestLogFilter(logging.Filter):
    """Adds %(request_id)s and masks phone numbers in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        return True


def configure_logging(level: int = logging.INFO) -> logging.Handler | None:
    """One stderr handler with the filter on the root logger (once per process)."""
    root = logging.getLogger()
    if any(isinstance(f, RequestLogFilter) for h in root.handlers for f in h.filters):
        return None
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestLogFilter())
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level) if root.handlers[:-1] else level)
    return handler


def register(app: Flask) -> None:
    if not app.testing:
        configure_logging()
    for name in ("werkzeug", "flask.app", app.logger.name):  # their own handlers, if any, mask too
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RequestLogFilter) for f in handler.filters):
                handler.addFilter(RequestLogFilter())

    @app.after_request
    def echo_request_id(response):
        response.headers[HEADER] = request_id()
        return response
