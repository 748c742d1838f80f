"""Flask-Login wiring and the per-user language and time zone."""
from flask import Flask, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from matrix.auth.models import User
from matrix.chain import chain_zone
from matrix.extensions import db, login_manager


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; a request without the cookie (a customer on a store page) skips the signer."""

    def open_session(self, app: Flask, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def configure_login(app: Flask) -> None:
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


SESSION_VERSION = "_sv"


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in user, unless the session was ended since (sign-out, a new password)."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or session.get(SESSION_VERSION) != user.session_version:
        return None
    return user


def start_session(user) -> None:
    """Sign in on a fresh session: nothing from before (a planted cookie, an old CSRF token) carries over."""
    _fresh_session()
    login_user(user)
    keep_session(user)


def close_session() -> None:
    """Sign out of this browser and forget everything its session held."""
    logout_user()
    _fresh_session()


def _fresh_session() -> None:
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # Flask-WTF's cached token went too


def keep_session(user) -> None:
    """This session stays valid after the user's sessions were ended (one's own new password)."""
    session[SESSION_VERSION] = user.session_version


def select_locale() -> str:
    """The signed-in user's language, else the session's choice, else Chinese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands, workers and services outside a request
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if visitor := request.environ.get("matrix.visitor_locale"):  # a public page: the browser's language, no session
        return visitor
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return chain_zone()
