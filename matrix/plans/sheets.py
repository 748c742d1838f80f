"""The wall print: one A4 landscape sheet per store, by construction.

The sheet, its header, its live box and its day columns have fixed heights in print.css and hide
what would overflow, so what each box holds is counted here. A day column shows as many items as
its density allows (fewer items get more lines; the type never goes below 8 pt) and, past the
densest capacity, "+N more" with the rest on the screen. Keep DENSITIES and LIVE_LINES in step with
print.css. Items are read as plain rows ranked in SQL, with their texts cut to what a box can show:
a chain's fullest week is 336 items a store, of which a sheet shows about 80.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from markupsafe import Markup
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from matrix.accounts.models import Account
from matrix.communities.models import Community
from matrix.content.models import Approval, ContentItem, ContentKind, ItemStatus
from matrix.extensions import db
from matrix.live.models import LiveSession
from matrix.plans.printing import LIVE_KINDS, current_communities, qr_svg, week_sessions
from matrix.regions.services import region_name
from matrix.stores.models import Store
from matrix.weeks import week_days

# (name, items a day column holds, characters of a text worth sending): each item box has a fixed height
# (print.css .d-<name>) and a few lines of about 13 Chinese or 25 Latin characters; more never shows.
DENSITIES = (("roomy", 3, 160), ("snug", 5, 100), ("compact", 8, 60), ("dense", 11, 40))
MOST = DENSITIES[-1][1]
LONGEST = DENSITIES[0][2]
LIVE_LINES = 12      # one-line entries of the header's live box (two columns of six)
LIVE_TOPIC = 60      # characters of a topic in the live box (one line)


@dataclass(slots=True)
class SheetItem:
    """An item as the shared item partial reads it, texts cut to what the print can show."""

    id: int
    store_id: int
    day: date
    slot: str
    kind: ContentKind
    status: ItemStatus
    topic: str
    caption: str
    script: str
    location_tag: str
    account: Account | None
    live_session: LiveSession | None


@dataclass
class DayCell:
    """One day column: the items shown, how many are left to the screen (until when), its density."""

    day: date
    items: list[SheetItem]
    hidden: int
    last_slot: str
    density: str
    clip: int

    @property
    def brief(self) -> bool:
        """Compact and dense cells: the platform on the time's line, then only topic and caption."""
        return self.density in ("compact", "dense")


def day_cell(day: date, items: list[SheetItem], total: int, last_slot: str) -> DayCell:
    """The roomiest density that holds the day's `total` items; past the densest, its last line is "+N more"."""
    for name, capacity, clip in DENSITIES:
        if total <= capacity:
            return DayCell(day, items[:total], 0, last_slot, name, clip)
    name, capacity, clip = DENSITIES[-1]
    return DayCell(day, items[:capacity - 1], total - (capacity - 1), last_slot, name, clip)


@dataclass
class Sheet:
    """One store's printed page."""

    store: Store
    monday: date
    days: list[DayCell]
    sessions: list[LiveSession]     # the store's own sessions shown in the live box
    live: list[SheetItem]           # live items and trailers shown in the live box
    live_more: int                  # entries of the live box left to the screen
    community: Community | None

    @property
    def city_name(self) -> str:
        return region_name(self.store.city_code)

    @cached_property
    def qr_svg(self) -> Markup | None:
        if self.community is None or not self.community.invite_link:
            return None
        return qr_svg(self.community.invite_link)


def _ranked(store_ids: list[int], monday: date):
    """Each printable item's rank and count in its day and among its store's live items (narrow rows: the
    sorts of the window functions stay cheap)."""
    c = ContentItem.__table__.c
    day, live = (c.store_id, c.day), (c.store_id, case((c.kind.in_(LIVE_KINDS), 1), else_=0))
    order = (c.slot, c.account_id, c.id)
    return (select(c.id, func.row_number().over(partition_by=day, order_by=order).label("day_rank"),
                   func.count().over(partition_by=day).label("day_total"),
                   func.max(c.slot).over(partition_by=day).label("day_last"),
                   func.row_number().over(partition_by=live, order_by=(c.day, *order)).label("live_rank"),
                   func.count().over(partition_by=live).label("live_total"))
            # The wall plan shows only what the staff should still do or did.
            .where(c.store_id.in_(store_ids), c.day >= monday, c.day <= monday + timedelta(days=6),
                   c.approval != Approval.REJECTED, c.status != ItemStatus.CANCELLED)
            .subquery())


def _rows(store_ids: list[int], monday: date) -> list:
    """The items a sheet shows, with their ranks and counts; texts cut to the longest a box shows."""
    c = ContentItem.__table__.c
    ranked = _ranked(store_ids, monday)
    return db.session.execute(
        select(c.id, c.store_id, c.account_id, c.session_id, c.day, c.slot, c.kind, c.status,
               *(func.substr(c[name], 1, LONGEST).label(name) for name in ("topic", "caption", "script",
                                                                            "location_tag")),
               ranked.c.day_rank, ranked.c.day_total, ranked.c.day_last, ranked.c.live_rank, ranked.c.live_total)
        .join(ranked, ranked.c.id == c.id)
        .where(or_(ranked.c.day_rank <= MOST, and_(c.kind.in_(LIVE_KINDS), ranked.c.live_rank <= LIVE_LINES)))
        .order_by(c.store_id, c.day, ranked.c.day_rank)).all()


def _related(rows: list) -> tuple[dict[int, Account], dict[int, LiveSession]]:
    accounts = {a.id: a for a in db.session.scalars(
        select(Account).options(selectinload(Account.platform))
        .where(Account.id.in_({r.account_id for r in rows if r.account_id})))}
    sessions = {s.id: s for s in db.session.scalars(
        select(LiveSession).options(selectinload(LiveSession.store))
        .where(LiveSession.id.in_({r.session_id for r in rows if r.session_id})))}
    return accounts, sessions


def _live_box(sessions: list[LiveSession], items: list[SheetItem], items_total: int):
    if len(sessions) + items_total <= LIVE_LINES:
        return sessions, items, 0
    shown_sessions = sessions[:LIVE_LINES - 1]
    shown_items = items[:LIVE_LINES - 1 - len(shown_sessions)]
    return shown_sessions, shown_items, len(sessions) + items_total - len(shown_sessions) - len(shown_items)


def store_sheets(stores: list[Store], monday: date) -> list[Sheet]:
    """The printed page of each store, in the order given, with its current group for the QR code."""
    ids = [store.id for store in stores]
    rows = _rows(ids, monday)
    accounts, sessions_by_id = _related(rows)
    days: dict[tuple[int, date], list[SheetItem]] = {}
    totals: dict[tuple[int, date], tuple[int, str]] = {}
    live: dict[int, list[SheetItem]] = {}
    live_totals: dict[int, int] = {}
    for r in rows:
        item = SheetItem(r.id, r.store_id, r.day, r.slot, r.kind, r.status, r.topic or "", r.caption or "",
                         r.script or "", r.location_tag or "", accounts.get(r.account_id),
                         sessions_by_id.get(r.session_id))
        if r.day_rank <= MOST:
            days.setdefault((r.store_id, r.day), []).append(item)
            totals[(r.store_id, r.day)] = (r.day_total, r.day_last)
        if r.kind in LIVE_KINDS and r.live_rank <= LIVE_LINES:
            live.setdefault(r.store_id, []).append(item)
            live_totals[r.store_id] = r.live_total
    communities, own_sessions = current_communities(ids), week_sessions(ids, monday)
    sheets = []
    for store in stores:
        cells = [day_cell(day, days.get((store.id, day), []), *totals.get((store.id, day), (0, "")))
                 for day in week_days(monday)]
        mine = sorted(live.get(store.id, []), key=lambda i: (i.day, i.slot, i.id))
        shown_sessions, shown_live, more = _live_box(own_sessions[store.id], mine, live_totals.get(store.id, 0))
        sheets.append(Sheet(store, monday, cells, shown_sessions, shown_live, more, communities.get(store.id)))
    return sheets
