"""The `state` a join way carries: which store and channel (and lead) brought a member, in 30 characters.

Format "sm.<store>.<channel>[.<lead>]" with ids in base 36: "sm.2s.poster", "sm.2s.lead.7ps". The "sm"
prefix tells our codes from other tools' in the same corp; ids up to 78 billion fit in 7 characters,
so the longest state is 27 characters, within WeCom's limit of 30 UTF-8 characters.
"""
import re
from typing import NamedTuple

from flask_babel import lazy_gettext as _l

PREFIX = "sm"
MAX_STATE = 30
# The channels a store's customers arrive by; `lead` is a lead's own invite. Codes are lower-case words.
CHANNELS = {"poster": _l("Window poster"), "bio": _l("Account profile link"), "trailer": _l("Live trailer"),
            "share": _l("Shared by a member"), "lead": _l("Invite to a lead"), "page": _l("Store page")}
_CHANNEL = re.compile(r"^[a-z]{2,8}$")
_ID = re.compile(r"^[0-9a-z]{1,7}$")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class State(NamedTuple):
    store_id: int
    channel: str
    lead_id: int | None = None


def make_state(store_id: int, channel: str, lead_id: int | None = None) -> str:
    """The state of a store's channel code, or of a lead's own invite (channel "lead")."""
    if not _CHANNEL.match(channel):
        raise ValueError(f"not a channel code: {channel!r}")
    if lead_id is not None and channel != "lead":
        raise ValueError("only the lead channel names a lead")
    parts = [PREFIX, _base36(store_id), channel] + ([_base36(lead_id)] if lead_id is not None else [])
    state = ".".join(parts)
    assert len(state) <= MAX_STATE, state
    return state


def parse_state(state: str | None) -> State | None:
    """The store, channel and lead a state names; None for a state that is not ours (or not a state)."""
    parts = (state or "").strip().split(".")
    if len(parts) not in (3, 4) or parts[0] != PREFIX or not _ID.match(parts[1]) or not _CHANNEL.match(parts[2]):
        return None
    lead = None
    if len(parts) == 4:
        if parts[2] != "lead" or not _ID.match(parts[3]):
            return None
        lead = int(parts[3], 36)
    store_id = int(parts[1], 36)
    return State(store_id, parts[2], lead) if store_id > 0 else None


def _base36(n: int) -> str:
    if not 0 < n < 36 ** 7:
        raise ValueError(f"id out of range: {n}")
    out = ""
    while n:
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
    return out
