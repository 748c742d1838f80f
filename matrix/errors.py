"""Domain errors and the HTML error pages."""
from contextlib import contextmanager

from flask import Flask, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError

from matrix.extensions import db


class DomainError(Exception):
    """An error a user can read and act on; views flash it or return it as JSON."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass


class FieldErrors(DomainError):
    """Several fields wrong at once, so a form shows every mistake in one round; the first is the message."""

    def __init__(self, errors: dict[str | None, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = dict(errors)


def field_errors(error: DomainError) -> dict[str | None, str]:
    """Field -> message of a DomainError, whether it names one field or several."""
    return dict(getattr(error, "errors", None) or {error.field: error.message})


class Collector:
    """Gathers the DomainErrors of independent checks: `with collect.field("day"): ...`, then `collect.check()`."""

    def __init__(self):
        self.errors: dict[str | None, str] = {}

    @contextmanager
    def field(self, name: str | None = None):
        try:
            yield
        except FieldErrors as error:
            for key, message in error.errors.items():
                self.errors.setdefault(key, message)
        except DomainError as error:
            self.errors.setdefault(error.field or name, error.message)

    def failed(self, *names: str) -> bool:
        return any(name in self.errors for name in names)

    def check(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


def _stale(error):
    """Two people saved the same row: the second save loses nothing but must be redone."""
    db.session.rollback()
    title = _("Someone else changed this record while you were editing it. Reload the page and make your change again.")
    if request.accept_mimetypes.best == "application/json":
        return {"error": title}, 409
    return render_template("errors/error.html", code=409, title=title), 409


def _out_of_range(error, not_found):
    """A number too large for the database (?page=10**20, a forged id) names nothing that exists."""
    # SQLite refuses such a number in Python (OverflowError); PostgreSQL answers 22003 (out of range).
    if not isinstance(error, OverflowError) and getattr(error.orig, "sqlstate", None) != "22003":
        raise error  # any other DataError is a bug: the usual 500, logged
    db.session.rollback()
    return not_found(error)


def register(app: Flask) -> None:
    def page(code: int, title: str):
        def handler(error):
            # Keep what the error says about retrying (429's Retry-After).
            headers = {k: v for k, v in getattr(error, "get_headers", lambda: [])() if k == "Retry-After"}
            if request.accept_mimetypes.best == "application/json":
                return {"error": title}, code, headers
            return render_template("errors/error.html", code=code, title=title), code, headers
        return handler

    app.register_error_handler(400, lambda e: page(400, _("Bad request: %(reason)s", reason=getattr(e, "description", "")))(e))
    app.register_error_handler(403, lambda e: page(403, _("You do not have access to this page."))(e))
    not_found = lambda e: page(404, _("Not found."))(e)  # noqa: E731
    app.register_error_handler(404, not_found)
    app.register_error_handler(413, lambda e: page(413, _("The file is too large."))(e))
    app.register_error_handler(429, lambda e: page(429, _("Too many attempts. Wait a few minutes and try again."))(e))
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(OverflowError, lambda e: _out_of_range(e, not_found))
    app.register_error_handler(DataError, lambda e: _out_of_range(e, not_found))
    app.register_error_handler(500, lambda e: page(500, _("Something went wrong on our side. The error was logged."))(e))
