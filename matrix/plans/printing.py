"""The week of one or many stores as the screen shows it, what the print shares with it, and the group QR code.

The wall print's own layout (one fixed A4 sheet per store) is sheets.py.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import segno
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from matrix.accounts.models import Account, AccountScope, Platform
from matrix.chain import chain_zone
from matrix.communities.models import Community
from matrix.communities.services import current_groups
from matrix.content.models import ContentItem, ContentKind
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus
from matrix.regions.services import region_name
from matrix.stores.models import Store
from matrix.weeks import week_days

# Live sessions and the trailers announcing them get their own box on the wall plan.
LIVE_KINDS = (ContentKind.LIVE, ContentKind.TRAILER)


@dataclass
class StoreWeek:
    store: Store | None          # None: a brand main account's week
    monday: date
    items: list[ContentItem]
    sessions: list[LiveSession] = field(default_factory=list)  # the store's own live sessions that week
    days: list[tuple[date, list[ContentItem]]] = field(init=False)

    def __post_init__(self):
        by_day = {day: [] for day in week_days(self.monday)}
        for item in self.items:
            by_day.setdefault(item.day, []).append(item)
        self.days = list(by_day.items())

    @property
    def city_name(self) -> str:
        return region_name(self.store.city_code)

    @property
    def live(self) -> list[ContentItem]:
        """The week's live sessions and trailers, in time order."""
        return [item for item in self.items if item.kind in LIVE_KINDS]

    @property
    def slots(self) -> list[str]:
        """Every slot used this week, earliest first (the rows of the screen grid)."""
        return sorted({item.slot for item in self.items})



@lru_cache(maxsize=4096)  # a chain's stores keep their group link for weeks: each print job makes them again
def qr_svg(text: str) -> Markup:
    """An inline SVG QR code, sized by CSS (no width/height of its own), black on white."""
    code = segno.make(text, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, border=2, omitsize=True, dark="#000", light="#fff"))


def week_items(store_ids: list[int], monday: date) -> dict[int, list[ContentItem]]:
    """Store id -> the store's items of the week by day, slot and account (one query)."""
    query = (select(ContentItem)
             .where(ContentItem.store_id.in_(store_ids), ContentItem.day >= monday,
                    ContentItem.day <= monday + timedelta(days=6))
             .options(selectinload(ContentItem.account).selectinload(Account.platform),
                      selectinload(ContentItem.live_session).selectinload(LiveSession.store))
             .order_by(ContentItem.day, ContentItem.slot, ContentItem.account_id, ContentItem.id))
    found: dict[int, list[ContentItem]] = {store_id: [] for store_id in store_ids}
    for item in db.session.scalars(query):
        found[item.store_id].append(item)
    return found


def week_sessions(store_ids: list[int], monday: date) -> dict[int, list[LiveSession]]:
    """Store id -> its accounts' live sessions starting in the local week, cancelled ones left out (one query)."""
    start = datetime.combine(monday, time.min, tzinfo=ZoneInfo(chain_zone()))
    found: dict[int, list[LiveSession]] = {store_id: [] for store_id in store_ids}
    for session in db.session.scalars(
            select(LiveSession).where(LiveSession.store_id.in_(store_ids), LiveSession.starts_at >= start,
                                      LiveSession.starts_at < start + timedelta(days=7),
                                      LiveSession.status != SessionStatus.CANCELLED)
            .options(selectinload(LiveSession.account).selectinload(Account.platform))
            .order_by(LiveSession.starts_at, LiveSession.id)):
        found[session.store_id].append(session)
    return found


def current_communities(store_ids: list[int]) -> dict[int, Community]:
    """Store id -> the group new members join now (communities.services.current_groups), QR images unloaded."""
    chosen = current_groups(store_ids)
    groups = {g.id: g for g in db.session.scalars(select(Community).options(defer(Community.qr_image))
                                                   .where(Community.id.in_([c.id for c in chosen.values()])))}
    return {store_id: groups[c.id] for store_id, c in chosen.items()}


def brand_accounts() -> list[Account]:
    """The brand main accounts, by brand and platform, for HQ's week links."""
    return list(db.session.scalars(select(Account).join(Account.platform)
                                   .options(selectinload(Account.platform), selectinload(Account.brand))
                                   .where(Account.scope == AccountScope.BRAND)
                                   .order_by(Account.brand_id, Platform.sort_order, Account.handle)))


def account_week(account: Account, monday: date) -> StoreWeek:
    """A brand main account's week: its items (the trailers it posts) and its own live sessions."""
    start = datetime.combine(monday, time.min, tzinfo=ZoneInfo(chain_zone()))
    items = list(db.session.scalars(
        select(ContentItem).where(ContentItem.account_id == account.id, ContentItem.day >= monday,
                                  ContentItem.day <= monday + timedelta(days=6))
        .options(selectinload(ContentItem.account).selectinload(Account.platform),
                 selectinload(ContentItem.live_session).selectinload(LiveSession.store))
        .order_by(ContentItem.day, ContentItem.slot, ContentItem.id)))
    sessions = list(db.session.scalars(
        select(LiveSession).where(LiveSession.account_id == account.id, LiveSession.starts_at >= start,
                                  LiveSession.starts_at < start + timedelta(days=7),
                                  LiveSession.status != SessionStatus.CANCELLED)
        .options(selectinload(LiveSession.account).selectinload(Account.platform))
        .order_by(LiveSession.starts_at, LiveSession.id)))
    return StoreWeek(None, monday, items, sessions)


def store_weeks(stores: list[Store], monday: date) -> list[StoreWeek]:
    """The week of each store as the screen shows it, in the order given."""
    ids = [store.id for store in stores]
    items, sessions = week_items(ids, monday), week_sessions(ids, monday)
    return [StoreWeek(store, monday, items[store.id], sessions[store.id]) for store in stores]
