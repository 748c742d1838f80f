"""The store page's two blueprints: the public one customers open, and HQ's settings, numbers and posters."""
from flask import Blueprint, current_app, request
from flask_babel import refresh

public_bp = Blueprint("storefront", __name__)
bp = Blueprint("storefront_hq", __name__, url_prefix="/storefront")
VISITOR_LOCALE = "matrix.visitor_locale"  # the WSGI environ key matrix.auth.session.select_locale reads


@public_bp.before_request
def visitor_language():
    """Chinese by default; a browser asking for English gets English. Read from the request, never a cookie."""
    request.environ[VISITOR_LOCALE] = visitor_locale(current_app.config["LANGUAGES"],
                                                     current_app.config["BABEL_DEFAULT_LOCALE"])
    refresh()  # a language Flask-Babel chose earlier in this context is forgotten


def current_visitor_locale() -> str:
    return request.environ[VISITOR_LOCALE]


def visitor_locale(languages, default: str) -> str:
    """The first language of the browser's list (by preference) that the site speaks: en-GB means English."""
    header = request.headers.get("Accept-Language", "")[:200]
    found = _seen.get(header)
    if found is None:
        found = next((value.split("-")[0].lower() for value, _quality in request.accept_languages  # by quality
                      if value.split("-")[0].lower() in languages), default)
        if len(_seen) < 1000:  # browsers send a few dozen distinct headers; a flood of odd ones is not kept
            _seen[header] = found
    return found


_seen: dict[str, str] = {}  # Accept-Language header -> language, this process's
