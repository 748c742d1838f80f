"""The channels a visitor reaches a store's page by (`?c=`), and which join code each one shows."""
from flask_babel import lazy_gettext as _l

from matrix.joins.states import CHANNELS

OTHER = "other"
DIRECT = "page"  # no `?c=`: the page's own link, typed or shared without a channel
PAGE_CHANNELS = (*CHANNELS, OTHER)
CHANNEL_LABELS = {**CHANNELS, OTHER: _l("Other")}


def channel_of(value) -> str:
    """A known channel code, "page" when none was given, "other" for anything else (never the raw value)."""
    text = str(value or "").strip().lower()[:16]
    if not text:
        return DIRECT
    return text if text in CHANNELS else OTHER


def join_channel(channel: str) -> str:
    """The join code a channel's visitors get: its own, so WeCom counts their joins apart; "other" gets the page's."""
    return channel if channel in CHANNELS else DIRECT
