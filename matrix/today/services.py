"""A store manager's day: what to shoot, post and announce today, this week's live sessions, leads, gaps.

Read-only: every list comes from its feature's scoped query (content items, live sessions, leads),
narrowed to the stores shown, so the page can never show another store's work.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from matrix.accounts.models import Account
from matrix.auth.models import User
from matrix.content.models import Approval, ContentItem, ContentKind, ItemStatus
from matrix.content.scoping import visible_items
from matrix.extensions import db
from matrix.leads.models import Lead, LeadStatus
from matrix.leads.services import LeadFilters, filtered_leads
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.scoping import visible_sessions
from matrix.plans.services import is_overdue
from matrix.stores.models import Store
from matrix.today.gaps import Gap, onboarding_gaps
from matrix.weeks import monday_of

LEADS_SHOWN = 5
OVERDUE_DAYS = 7     # items left undone further back belong to the completion report, not to today


@dataclass
class LeadList:
    leads: list[Lead]
    total: int


@dataclass
class StoreDay:
    day: date
    stores: list[Store]
    items: list[ContentItem] = field(default_factory=list)      # today's posts, by time
    trailers: list[ContentItem] = field(default_factory=list)   # today's trailers, by time
    overdue: list[ContentItem] = field(default_factory=list)    # the last days' posts still not out
    late_ids: set[int] = field(default_factory=set)             # items past their time, not published
    sessions: list[LiveSession] = field(default_factory=list)   # this week's own live sessions
    new_leads: LeadList = field(default_factory=lambda: LeadList([], 0))
    due_leads: LeadList = field(default_factory=lambda: LeadList([], 0))
    gaps: dict[int, list[Gap]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.items or self.trailers or self.overdue or self.sessions or self.new_leads.total
                    or self.due_leads.total or self.gaps)


def _items(user: User, store_ids: list[int], first: date, last: date) -> list[ContentItem]:
    return list(db.session.scalars(
        visible_items(user).where(ContentItem.store_id.in_(store_ids), ContentItem.day >= first,
                                  ContentItem.day <= last, ContentItem.status != ItemStatus.CANCELLED,
                                  ContentItem.approval != Approval.REJECTED)
        .options(selectinload(ContentItem.account).selectinload(Account.platform),
                 selectinload(ContentItem.live_session).selectinload(LiveSession.store),
                 selectinload(ContentItem.store))
        .order_by(ContentItem.day, ContentItem.slot, ContentItem.id)))


def _sessions(user: User, store_ids: list[int], monday: date, zone: str) -> list[LiveSession]:
    start = datetime.combine(monday, time.min, tzinfo=ZoneInfo(zone))
    return list(db.session.scalars(
        visible_sessions(user).where(LiveSession.store_id.in_(store_ids), LiveSession.starts_at >= start,
                                     LiveSession.starts_at < start + timedelta(days=7),
                                     LiveSession.status != SessionStatus.CANCELLED)
        .options(selectinload(LiveSession.account).selectinload(Account.platform), selectinload(LiveSession.store))
        .order_by(LiveSession.starts_at, LiveSession.id)))


def _leads(user: User, store_ids: list[int], filters: LeadFilters, now: datetime) -> LeadList:
    query = filtered_leads(user, filters, now=now).where(Lead.store_id.in_(store_ids))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return LeadList(list(db.session.scalars(query.limit(LEADS_SHOWN)).unique()), total)


def store_day(user: User, stores: list[Store], *, now: datetime, zone: str) -> StoreDay:
    """The day of `stores` (already loaded in the user's scope) as the Today page shows it."""
    day = now.astimezone(ZoneInfo(zone)).date()
    view = StoreDay(day, stores)
    ids = [store.id for store in stores]
    if not ids:
        return view
    for item in _items(user, ids, day - timedelta(days=OVERDUE_DAYS), day):
        late = is_overdue(item, now=now, zone=zone)
        if late:
            view.late_ids.add(item.id)
        if item.day == day:
            (view.trailers if item.kind == ContentKind.TRAILER else view.items).append(item)
        elif late:
            view.overdue.append(item)
    view.sessions = _sessions(user, ids, monday_of(day), zone)
    view.new_leads = _leads(user, ids, LeadFilters(status=LeadStatus.NEW), now)
    view.due_leads = _leads(user, ids, LeadFilters(follow_up_due=True), now)
    view.gaps = onboarding_gaps(user, ids)
    return view
