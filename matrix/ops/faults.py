"""When the database cannot be reached (a restart, a failover, a full pool): 503 with Retry-After.

Machines (the lead webhooks, JSON callers) get JSON, so a platform retries the delivery later
instead of seeing an HTML error page; people get a page that reads nothing from the database.
Nothing is answered 200 unless its transaction committed, so no lead is acknowledged and lost.
"""
import logging

from flask import Flask, current_app, request, session
from flask_babel import force_locale
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from matrix.extensions import db

log = logging.getLogger(__name__)
JSON_BLUEPRINTS = {"hooks"}


def database_unavailable(error):
    """Answer 503; the request's end returns the broken connection, and the pool checks the next one."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone: the session is discarded at the request's end
        pass
    retry = current_app.config["DB_UNAVAILABLE_RETRY_S"]
    log.error("database unavailable: %s %s answered 503 (%s)", request.method, request.path, type(error).__name__)
    headers = {"Retry-After": str(retry)}
    if request.blueprint in JSON_BLUEPRINTS or request.is_json or request.accept_mimetypes.best == "application/json":
        return {"error": "the database is unavailable, retry later", "code": "unavailable"}, 503, headers
    # The language from the cookie, not the user's setting: reading the user needs the database.
    locale = session.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        # Not render_template: its context processors would load the signed-in user from the database.
        page = current_app.jinja_env.get_template("errors/unavailable.html")
        return page.render(retry_after=retry, locale=locale, request=request), 503, headers


def register(app: Flask) -> None:
    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(error, database_unavailable)
