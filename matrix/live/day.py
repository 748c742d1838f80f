"""The chain's day of live sessions: who is live when, summed up per city, and its bars a page at a time.

A busy day of a 10,000-store chain holds ~900 sessions: drawn at once they made a 550 KB page that
took 250 ms to render. The summary (sessions per hour; per city its sessions, busiest hour and overlaps)
covers every session of the day from one query of five columns; the bars are drawn DAY_BARS at a time,
and only their sessions are loaded with their accounts and stores.
"""
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from matrix.auth.models import User
from matrix.extensions import db
from matrix.live.calendars import local_midnight, nearby_counts, with_host
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.scoping import visible_sessions
from matrix.paging import ListPage
from matrix.stores.models import Store

DAY_AXIS = (6, 24)  # the day view's default hours, local; widened when sessions start earlier or end later
DAY_BARS = 50       # bars a page draws
LONGEST = timedelta(days=2)  # far beyond any session (timing.MAX_SESSION is 12 hours)


def bar_position(starts: datetime, ends: datetime, axis_start: datetime,
                 axis_end: datetime) -> tuple[float, float, bool, bool]:
    """Left and width of a session's bar in percent of the axis, clipped to it; and whether it was clipped."""
    total = (axis_end - axis_start).total_seconds()
    left_at, right_at = max(starts, axis_start), min(ends, axis_end)
    left = (left_at - axis_start).total_seconds() / total * 100
    width = max((right_at - left_at).total_seconds(), 0) / total * 100
    return round(left, 3), round(width, 3), starts < axis_start, ends > axis_end


def day_axis(day: date, spans, zone: str) -> tuple[datetime, datetime]:
    """06:00–24:00 local, widened to whole hours for sessions starting earlier (not before midnight) or ending later."""
    midnight = local_midnight(day, zone)
    axis_start, axis_end = midnight + timedelta(hours=DAY_AXIS[0]), midnight + timedelta(hours=DAY_AXIS[1])
    for starts, ends in spans:
        starts, ends = starts.astimezone(ZoneInfo(zone)), ends.astimezone(ZoneInfo(zone))
        if starts < axis_start:
            axis_start = max(midnight, starts.replace(minute=0, second=0, microsecond=0))
        if ends > axis_end:
            whole = ends.replace(minute=0, second=0, microsecond=0)
            axis_end = whole if whole == ends else whole + timedelta(hours=1)
    return axis_start, axis_end


@dataclass
class Bar:
    session: LiveSession
    left: float
    width: float
    clipped_start: bool
    clipped_end: bool
    nearby: int


@dataclass
class HourCount:
    label: str         # "20:00"
    left: float        # percent of the axis
    count: int         # sessions live at some time within the hour


def _per_hour(spans: list[tuple[datetime, datetime]], axis_start: datetime, hours: int) -> list[int]:
    """Sessions live at some time within each hour of the axis, in one pass over the spans."""
    counts = [0] * hours
    for starts, ends in spans:
        # Hour i is [axis + i h, axis + (i + 1) h): a span touches it when it starts before its end and ends after
        # its start (touching sessions do not count).
        first = max(0, math.floor((starts - axis_start).total_seconds() / 3600))
        for i in range(first, min(hours, math.ceil((ends - axis_start).total_seconds() / 3600))):
            counts[i] += 1
    return counts


def _hour(axis_start: datetime, total_s: float, i: int, count: int) -> HourCount:
    at = axis_start + timedelta(hours=i)
    return HourCount(f"{at.hour:02d}:00", round(i * 3600 / total_s * 100, 3), count)


def hour_counts(spans: list[tuple[datetime, datetime]], axis_start: datetime, axis_end: datetime) -> list[HourCount]:
    """For each hour of the axis, how many sessions are live at some time within it."""
    total_s = (axis_end - axis_start).total_seconds()
    counts = _per_hour(spans, axis_start, math.ceil(total_s / 3600))
    return [_hour(axis_start, total_s, i, count) for i, count in enumerate(counts)]


@dataclass
class CityDay:
    code: str | None             # None: the brand main accounts
    sessions: int
    busiest: HourCount | None    # the hour with the most sessions live (the first of equals)
    nearby: int                  # sessions live at the same time as another store's of the city


@dataclass
class DayView:
    day: date
    axis_start: datetime
    axis_end: datetime
    bars: ListPage
    groups: list[tuple[str | None, list[Bar]]] = field(default_factory=list)   # this page's bars by city
    hours: list[HourCount] = field(default_factory=list)
    cities: list[CityDay] = field(default_factory=list)
    total: int = 0

    @property
    def busiest(self) -> int:
        return max((h.count for h in self.hours), default=0)


def _day_rows(user: User, day: date, zone: str, city: str | None) -> list[tuple]:
    """(id, store id, city, start, end, store code) of the day's sessions in bar order: city (brand accounts
    last), start, store code."""
    midnight = local_midnight(day, zone)
    query = (visible_sessions(user).outerjoin(Store, Store.id == LiveSession.store_id)
             .with_only_columns(LiveSession.id, LiveSession.store_id, Store.city_code, LiveSession.starts_at,
                                LiveSession.ends_at, Store.code)
             .where(LiveSession.status != SessionStatus.CANCELLED,
                    # A session lasts at most 12 hours: the lower bound keeps the index range to these days, not
                    # every session ever started before tomorrow.
                    LiveSession.starts_at > midnight - LONGEST, LiveSession.starts_at < midnight + timedelta(days=1),
                    LiveSession.ends_at > midnight))
    if city:
        query = query.where(Store.city_code == city)
    rows = [tuple(row) for row in db.session.execute(query)]
    return sorted(rows, key=lambda r: (r[2] is None, r[2] or "", r[3], r[5] or "", r[0]))


def city_days(rows: list[tuple], nearby: dict[int, int], axis_start: datetime, axis_end: datetime) -> list[CityDay]:
    """Per city (the most sessions first, brand accounts last): sessions, the busiest hour, sessions overlapping
    a sibling store's."""
    by_city: dict[str | None, list[tuple]] = {}
    for row in rows:
        by_city.setdefault(row[2], []).append(row)
    cities, total_s = [], (axis_end - axis_start).total_seconds()
    for code, members in by_city.items():
        counts = _per_hour([(r[3], r[4]) for r in members], axis_start, math.ceil(total_s / 3600))
        top = max(range(len(counts)), key=counts.__getitem__, default=None)  # the first of equals
        busiest = _hour(axis_start, total_s, top, counts[top]) if top is not None and counts[top] else None
        cities.append(CityDay(code, len(members), busiest, sum(1 for r in members if nearby.get(r[0]))))
    return sorted(cities, key=lambda c: (c.code is None, -c.sessions, c.code or ""))


def day_view(user: User, day: date, *, zone: str, city: str | None = None, page: int = 1,
             per_page: int | None = None) -> DayView:
    """Who is live when on one local day: sessions per hour and per city, and one page of bars with overlaps."""
    per_page = per_page or DAY_BARS
    rows = _day_rows(user, day, zone, city)
    spans = [(r[3], r[4]) for r in rows]
    axis_start, axis_end = day_axis(day, spans, zone)
    nearby = nearby_counts(r for r in rows if r[1] is not None)
    bars = ListPage.of(len(rows), page, per_page)
    view = DayView(day, axis_start, axis_end, bars, total=len(rows), hours=hour_counts(spans, axis_start, axis_end),
                   cities=city_days(rows, nearby, axis_start, axis_end))
    shown = [r[0] for r in bars.slice(rows)]
    if not shown:
        return view
    loaded = {s.id: s for s in db.session.scalars(with_host(visible_sessions(user)).where(LiveSession.id.in_(shown)))}
    groups: dict[str | None, list[Bar]] = {}
    for session in (loaded[i] for i in shown if i in loaded):
        left, width, clipped_start, clipped_end = bar_position(session.starts_at, session.ends_at, axis_start, axis_end)
        groups.setdefault(session.store.city_code if session.store else None, []).append(
            Bar(session, left, width, clipped_start, clipped_end, nearby.get(session.id, 0)))
    view.groups = list(groups.items())
    return view
