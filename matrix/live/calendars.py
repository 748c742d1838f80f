"""Live sessions laid out for the pages: a week's list, the city and store calendars (the chain's day: live/day.py).

Plain functions of the user, the window and the chain's zone (no request). Each loads only its
week or day window, with the accounts, platforms and stores it shows joined in one query.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask_babel import format_datetime, get_locale
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from matrix.accounts.models import Account, AccountScope
from matrix.auth.models import User
from matrix.content.models import ContentItem, ContentKind, ItemStatus
from matrix.content.scoping import visible_items
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.scoping import visible_sessions
from matrix.permissions import visible_stores
from matrix.stores.models import Store
from matrix.weeks import week_days


def local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def week_window(monday: date, zone: str) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, local, as aware moments."""
    return local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def weekday_names() -> list[str]:
    """The locale's short weekday names, Monday first: what "EEE" prints (周六, Sat)."""
    names = get_day_names("abbreviated", locale=get_locale())
    return [names[day] for day in range(7)]  # keyed 0 (Monday) to 6, listed from Sunday


def span_text(starts_at: datetime, ends_at: datetime, zone: str, *, pattern: str = "EEE MM-dd HH:mm",
              weekdays: list[str] | None = None) -> str:
    """"Sat 11-28 19:00–21:00" in the chain's zone; "(+1)" when it ends after midnight.

    The two patterns the pages use are put together here (Babel's format_datetime cost ~40 µs a call, a
    day view makes hundreds); `weekdays` (weekday_names()) saves a locale look-up per call.
    """
    tz = ZoneInfo(zone)
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    if pattern == "HH:mm":
        text = f"{start:%H:%M}"
    elif pattern == "EEE MM-dd HH:mm":
        text = f"{(weekdays or weekday_names())[start.weekday()]} {start:%m-%d %H:%M}"
    else:
        text = format_datetime(starts_at, pattern)
    days = (end.date() - start.date()).days
    return f"{text}–{end:%H:%M}" + (f" (+{days})" if days else "")


def with_host(query: Select) -> Select:
    """Sessions with their account, platform and store loaded in the same query."""
    return (query.join(LiveSession.account).join(Account.platform).outerjoin(LiveSession.store)
            .options(contains_eager(LiveSession.account).contains_eager(Account.platform),
                     contains_eager(LiveSession.store)))


def week_sessions(user: User, monday: date, *, zone: str, city: str | None = None, store_id: int | None = None,
                  status: str | None = None, q: str = "") -> Select:
    """The sessions starting in a week that the user may see, filtered, in time order."""
    start, end = week_window(monday, zone)
    query = with_host(visible_sessions(user)).where(LiveSession.starts_at >= start, LiveSession.starts_at < end)
    if city:
        query = query.where(Store.city_code == city)
    if store_id:
        query = query.where(LiveSession.store_id == store_id)
    if status in set(SessionStatus):
        query = query.where(LiveSession.status == SessionStatus(status))
    if q := q.strip():
        query = query.where(or_(*(column.icontains(q, autoescape=True) for column in (  # % and _ typed are literal
            LiveSession.title, LiveSession.anchor, Account.handle, Store.code, Store.name))))
    return query.order_by(LiveSession.starts_at, Store.code, LiveSession.id)


def session_trailer_query(session_id: int) -> Select:
    """A session's trailers in the order they go out, with posting account, platform and store loaded."""
    return (select(ContentItem).where(ContentItem.session_id == session_id)
            .options(selectinload(ContentItem.account).selectinload(Account.platform), selectinload(ContentItem.store))
            .order_by(ContentItem.day, ContentItem.slot, ContentItem.id))


def trailer_counts(session_ids: Iterable[int]) -> dict[int, int]:
    """How many trailers (not cancelled) each session has."""
    ids = list(session_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(ContentItem.session_id, func.count(ContentItem.id))
                              .where(ContentItem.session_id.in_(ids), ContentItem.status != ItemStatus.CANCELLED)
                              .group_by(ContentItem.session_id))
    return dict(rows.all())


def nearby_counts(rows: Iterable[tuple]) -> dict[int, int]:
    """(id, store_id, group, starts_at, ends_at) rows -> for each id, how many sessions of another store of the
    same group (city) run at an overlapping time. Touching sessions (20:00 end, 20:00 start) do not overlap."""
    counts: dict[int, int] = {}
    groups: dict[object, list[tuple]] = {}
    for row in rows:
        groups.setdefault(row[2], []).append(row)
    for members in groups.values():
        running: list[tuple] = []
        for row in sorted(members, key=lambda r: r[3]):
            running = [r for r in running if r[4] > row[3]]
            for other in running:
                if other[1] != row[1]:
                    counts[row[0]] = counts.get(row[0], 0) + 1
                    counts[other[0]] = counts.get(other[0], 0) + 1
            running.append(row)
    return counts


def _city_overlaps(user: User, city_code: str, start: datetime, end: datetime) -> dict[int, int]:
    """Nearby counts of the visible sessions of one city that overlap [start, end)."""
    rows = db.session.execute(
        visible_sessions(user).join(Store, Store.id == LiveSession.store_id)
        .with_only_columns(LiveSession.id, LiveSession.store_id, Store.city_code, LiveSession.starts_at,
                           LiveSession.ends_at)
        .where(Store.city_code == city_code, LiveSession.status != SessionStatus.CANCELLED,
               LiveSession.starts_at < end, LiveSession.ends_at > start)).all()
    return nearby_counts(tuple(r) for r in rows)


@dataclass
class CityCalendar:
    city_code: str
    days: list[date]
    stores: object                                   # a Pagination of Store rows
    cells: dict[tuple[int, date], list[LiveSession]] = field(default_factory=dict)
    nearby: dict[int, int] = field(default_factory=dict)


def city_stores(user: User, city_code: str) -> Select:
    """The visible open-or-not stores of a city that have a store account (the calendar's rows)."""
    has_account = exists(select(Account.id).where(Account.store_id == Store.id, Account.scope == AccountScope.STORE))
    return visible_stores(user).where(Store.city_code == city_code, has_account).order_by(Store.code)


def city_calendar(user: User, city_code: str, monday: date, *, zone: str, page: int = 1, per_page: int = 50,
                  busy_only: bool = False) -> CityCalendar | None:
    """Stores of a city by the days of a week; None when the user sees no store there."""
    if not db.session.scalar(select(visible_stores(user).where(Store.city_code == city_code).exists())):
        return None
    start, end = week_window(monday, zone)
    stores = city_stores(user, city_code)
    if busy_only:
        stores = stores.where(exists(select(LiveSession.id).where(
            LiveSession.store_id == Store.id, LiveSession.status != SessionStatus.CANCELLED,
            LiveSession.starts_at >= start, LiveSession.starts_at < end)))
    pagination = db.paginate(stores, page=page, per_page=per_page, error_out=False)
    calendar = CityCalendar(city_code, week_days(monday), pagination)
    ids = [s.id for s in pagination.items]
    if ids:
        sessions = db.session.scalars(with_host(visible_sessions(user)).where(
            LiveSession.store_id.in_(ids), LiveSession.starts_at >= start, LiveSession.starts_at < end)
            .order_by(LiveSession.starts_at, LiveSession.id))
        for session in sessions:
            calendar.cells.setdefault((session.store_id, local_day(session.starts_at, zone)), []).append(session)
        calendar.nearby = _city_overlaps(user, city_code, start, end)
    return calendar


@dataclass
class TrailerDue:
    item: ContentItem
    session: LiveSession
    own: bool          # announces this store's own session (else a neighbour's or the brand's)


@dataclass
class StoreCalendar:
    days: list[date]
    sessions: dict[date, list[LiveSession]] = field(default_factory=dict)
    trailers: dict[date, list[TrailerDue]] = field(default_factory=dict)
    nearby: dict[int, int] = field(default_factory=dict)

    @property
    def flagged(self) -> list[TrailerDue]:
        """Trailers that announce a wrong time or a cancelled session."""
        return [due for day in self.days for due in self.trailers.get(day, ()) if due.item.flag]


def store_calendar(user: User, store: Store, monday: date, *, zone: str) -> StoreCalendar:
    """A store's sessions of a week by day, and the trailers it must post that week (its own and neighbours')."""
    start, end = week_window(monday, zone)
    days = week_days(monday)
    calendar = StoreCalendar(days)
    for session in db.session.scalars(with_host(visible_sessions(user)).where(
            LiveSession.store_id == store.id, LiveSession.starts_at >= start, LiveSession.starts_at < end)
            .order_by(LiveSession.starts_at, LiveSession.id)):
        calendar.sessions.setdefault(local_day(session.starts_at, zone), []).append(session)
    rows = db.session.execute(
        visible_items(user).add_columns(LiveSession).join(LiveSession, LiveSession.id == ContentItem.session_id)
        .where(ContentItem.store_id == store.id, ContentItem.kind == ContentKind.TRAILER,
               ContentItem.day >= days[0], ContentItem.day <= days[-1])
        .options(selectinload(ContentItem.account).selectinload(Account.platform), selectinload(LiveSession.store))
        .order_by(ContentItem.day, ContentItem.slot, ContentItem.id)).all()
    for item, session in rows:
        calendar.trailers.setdefault(item.day, []).append(TrailerDue(item, session, session.store_id == store.id))
    calendar.nearby = _city_overlaps(user, store.city_code, start, end)
    return calendar
