"""Local times of sessions and trailers in the chain's time zone, and the quiet-hours rule.

Offsets are subtracted on the local wall clock. That is exact for China's zones, which keep no
daylight saving time; a chain in a zone that does would see an offset across the change off by an hour.
"""
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext

from matrix.errors import DomainError

_TIME_RE = re.compile(r"^\s*([01]?\d|2[0-3])[:：]([0-5]\d)\s*$")
MAX_SESSION = timedelta(hours=12)


def parse_clock(text: str, *, field: str | None = None) -> time:
    """"19:00" (also 9:30 and full-width 19：00) as a time; raises DomainError."""
    match = _TIME_RE.match(text or "")
    if not match:
        raise DomainError(_("“%(value)s” is not a time; write it like 19:00.", value=text or ""), field=field)
    return time(int(match.group(1)), int(match.group(2)))


def clock(value: time | datetime) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def local_moment(day: date, at: time, zone: str) -> datetime:
    """The aware moment of a local day and wall-clock time."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))


def session_span(day: date, start: str, end: str, zone: str) -> tuple[datetime, datetime]:
    """Start and end from a local day and "HH:MM" times; an end before the start runs past midnight."""
    starts = local_moment(day, parse_clock(start, field="start"), zone)
    ends = local_moment(day, parse_clock(end, field="end"), zone)
    if ends <= starts:
        ends += timedelta(days=1)
    if ends - starts > MAX_SESSION:
        raise DomainError(_("A live session lasts at most 12 hours."), field="end")
    return starts, ends


def in_quiet_hours(at: time, quiet_start: time, quiet_end: time) -> bool:
    """Quiet hours run from `quiet_start` to `quiet_end`, across midnight when the end is earlier."""
    if quiet_start == quiet_end:
        return False
    if quiet_start < quiet_end:
        return quiet_start <= at < quiet_end
    return at >= quiet_start or at < quiet_end


def trailer_moment(starts_at: datetime, minutes: int, *, zone: str, quiet_start: time, quiet_end: time,
                   evening: time) -> datetime:
    """When a trailer `minutes` before the start is due, local; at night it moves to the previous evening slot."""
    due = starts_at.astimezone(ZoneInfo(zone)) - timedelta(minutes=minutes)
    if not in_quiet_hours(due.time(), quiet_start, quiet_end):
        return due
    day = due.date()
    if due.time() < evening:  # after midnight: the evening before
        day -= timedelta(days=1)
    return local_moment(day, evening, zone)


def offset_label(minutes: int) -> str:
    """"3 days", "1 day", "3 hours", "30 minutes" before the start (whole units only when exact)."""
    if minutes % (24 * 60) == 0:
        return ngettext("%(num)d day", "%(num)d days", minutes // (24 * 60))
    if minutes % 60 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def parse_offset(text: str) -> int:
    """"3d", "1 day", "3h", "30m", "90" (minutes), "3天", "3小时", "30分钟" as minutes; raises DomainError."""
    match = re.match(r"^\s*(\d{1,4})\s*(d|day|days|天|h|hr|hour|hours|小时|m|min|minutes|分钟|分)?\s*$",
                     (text or "").lower())
    if not match or int(match.group(1)) <= 0:
        raise DomainError(_("“%(value)s” is not an offset; write it like 3d, 3h or 30m.", value=text or ""),
                          field="offsets")
    n, unit = int(match.group(1)), match.group(2) or "m"
    minutes = n * (24 * 60 if unit in ("d", "day", "days", "天") else 60 if unit in ("h", "hr", "hour", "hours", "小时")
                   else 1)
    if minutes > 30 * 24 * 60:
        raise DomainError(_("A trailer goes out at most 30 days before the session."), field="offsets")
    return minutes


def offset_text(minutes: int) -> str:
    """The short form parse_offset reads back: 3d, 3h, 30m."""
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
