"""ISO weeks (Monday..Sunday) in the chain's time zone, addressed as "2026-W48" in URLs."""
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date
from flask_babel import gettext as _

from matrix.chain import chain_zone

_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


class WeekError(ValueError):
    """A week string that is not "YYYY-Www" or names a week the year does not have."""


def iso_week(value: str) -> date:
    """Parse "2026-W48" into the Monday of that ISO week; raises WeekError."""
    match = _WEEK_RE.match(value or "")
    if not match:
        raise WeekError(_("A week is written like 2026-W48."))
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise WeekError(_("The year %(year)s has no week %(week)s.", year=year, week=week)) from None


def week_string(day: date) -> str:
    """The ISO week containing `day`, as "2026-W48"."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    """The Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


def week_days(monday: date) -> list[date]:
    """The seven days Monday..Sunday of the week starting at `monday`."""
    monday = monday_of(monday)
    return [monday + timedelta(days=n) for n in range(7)]


def today(tz: str | None = None) -> date:
    """Today's date in the chain's time zone (or `tz`)."""
    zone = ZoneInfo(tz or chain_zone())
    return datetime.now(zone).date()


def current_week(tz: str | None = None) -> date:
    """The Monday of the current week in the chain's time zone (or `tz`)."""
    return monday_of(today(tz))


def next_week(monday: date) -> date:
    """The Monday one week later."""
    return monday_of(monday) + timedelta(days=7)


def previous_week(monday: date) -> date:
    """The Monday one week earlier."""
    return monday_of(monday) - timedelta(days=7)


def week_label(monday: date) -> str:
    """A human label such as "2026-W48 (Nov 23 – Nov 29)" in the current locale."""
    days = week_days(monday)
    return _("%(week)s (%(start)s – %(end)s)", week=week_string(days[0]),
             start=format_date(days[0], "medium"), end=format_date(days[-1], "medium"))
