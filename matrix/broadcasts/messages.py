"""What the robots say: customer posts (a trailer, "we are live now") and staff messages (a reminder, the digest).

Customer posts are plain text: WeChat members of a WeCom customer group do not see markdown. They carry
only what the chain publishes anyway (the trailer's own text, the session's title and theme, the live
room link), never staff or lead data. Staff messages are markdown cards for the staff group.
"""
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from matrix.chain import chain_language
from matrix.notifications.markdown import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES, fit, plain

TEXT_LINE_CHARS = 500


def _line(text: str | None, limit: int = TEXT_LINE_CHARS) -> str:
    """Outside text for a plain-text post: no control characters, no runaway length."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", str(text or "")).strip()[:limit]


def _text(lines: list[str]) -> dict:
    content = "\n".join(line for line in lines if line)
    return {"msgtype": "text", "text": {"content": fit(content, TEXT_MAX_BYTES)}}


def trailer_post(topic: str, caption: str, link: str | None) -> dict:
    """A trailer for the customer group: the trailer's own text, and the live room link when there is one."""
    with chain_language():
        room = _("Live room: %(link)s", link=link) if link else ""
    return _text([_line(topic, 200), _line(caption, 1500), room])


def live_now_post(title: str, theme: str, link: str | None) -> dict:
    """"We are live now" with the live room link, at the session's start."""
    with chain_language():
        head = _("We are live now: %(title)s", title=_line(title, 160))
        room = _("Join us: %(link)s", link=link) if link else _("Find us on our account's live room.")
    return _text([head, _line(theme, 300), room])


def reminder_card(*, store_name: str, phone_masked: str | None, received_at: datetime, hours: int, link: str,
                  zone: str) -> dict:
    """A lead still new after `hours`: the masked phone only, and a link for those allowed to open it."""
    masked = re.sub(r"[^0-9*]", "", phone_masked or "")
    with chain_language():
        lines = ["### " + _("A lead of %(store)s is still waiting", store=plain(store_name)),
                 "> " + _("Still new %(hours)d hours after it arrived (received %(time)s).", hours=hours,
                          time=received_at.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M")),
                 "> " + _("Phone: %(phone)s", phone=f"`{masked}`" if masked else _("none"))]
        if link:
            lines.append("[" + _("Open the lead") + f"]({link})")
    return {"msgtype": "markdown", "markdown": {"content": fit("\n".join(lines), MARKDOWN_MAX_BYTES)}}


def digest_card(*, store_name: str, day: date, items: list[tuple[str, str, str]], sessions: list[tuple[str, str]],
                link: str) -> dict:
    """The store's day: its items (slot, kind label, topic) and live sessions (time, title)."""
    with chain_language():
        lines = ["### " + _("Today at %(store)s · %(day)s", store=plain(store_name), day=day.isoformat())]
        for at, title in sessions:
            lines.append("> " + _("%(time)s live: %(title)s", time=at, title=plain(title, 80)))
        for slot, kind, topic in items:
            lines.append(f"> {slot} {kind}: {plain(topic, 80)}")
        if link:
            lines.append("[" + _("Open the weekly plan") + f"]({link})")
    return {"msgtype": "markdown", "markdown": {"content": fit("\n".join(lines), MARKDOWN_MAX_BYTES)}}
