"""What every part of the product reads about the chain itself: its time zone and its language."""
from flask import current_app
from flask_babel import force_locale


def chain_zone() -> str:
    """The chain's time zone (MATRIX_TIMEZONE): days, slots and session times are shown in it."""
    return current_app.config["MATRIX_TIMEZONE"]


def chain_language():
    """Write stored or sent texts (flags, robot messages, rule names) in the chain's language, not the viewer's.

    Use as `with chain_language(): text = _("...")`.
    """
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh"))
