"""What a store's public page shows: only what a customer may see, read in a few light queries.

Public fields only: the store's name, address, public phone and opening hours, its accounts' public
profiles, its next live sessions (time, title, platform; never the anchor), and the current group's
join code. No staff, no managers' phones, no leads, no robot addresses.
"""
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from matrix import geo
from matrix.accounts.models import Account, AccountScope, AccountStatus
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.joins.codes import JoinCode, join_code_for
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.trailer_texts import starts_label
from matrix.regions.services import region_name
from matrix.storefront.channels import join_channel
from matrix.stores.models import Store, StoreStatus

SHOWN_ACCOUNT_STATUSES = (AccountStatus.ACTIVE, AccountStatus.INCUBATING, AccountStatus.RESTRICTED)
SESSIONS_SHOWN = 3


@dataclass(frozen=True)
class PublicAccount:
    platform: str
    handle: str
    display_name: str
    profile_url: str | None


@dataclass(frozen=True)
class PublicSession:
    when: str             # "11月28日 19:00" in the visitor's language, the chain's zone
    title: str
    platform: str
    account_name: str
    live_now: bool


@dataclass(frozen=True)
class StorePage:
    store_id: int
    code: str
    name: str
    brand: str
    city: str
    district: str
    address: str
    phone: str | None
    opening_hours: str | None
    map_url: str
    accounts: list[PublicAccount]
    sessions: list[PublicSession]
    join: JoinCode


def open_store(code: str) -> Store | None:
    """The open, unarchived store with this code; None for any other (its page answers 404)."""
    code = str(code or "").strip()
    if not code or len(code) > 40:
        return None
    return db.session.scalar(select(Store).where(Store.code == code, Store.status == StoreStatus.OPEN,
                                                 Store.archived_at.is_(None)))


def store_page(store: Store, *, channel: str, locale: str, zone: str, now: datetime) -> StorePage:
    """The public view of a store for a visitor from `channel`."""
    brand = db.session.scalar(select(Brand.name).where(Brand.id == store.brand_id)) if store.brand_id else None
    return StorePage(store_id=store.id, code=store.code, name=store.name, brand=brand or "",
                     city=region_name(store.city_code), district=region_name(store.district_code),
                     address=store.address or "", phone=store.phone, opening_hours=store.opening_hours,
                     map_url=map_url(store), accounts=public_accounts(store.id, locale),
                     sessions=next_sessions(store.id, locale=locale, zone=zone, now=now),
                     join=join_code_for(store.id, join_channel(channel)))


def map_url(store: Store) -> str:
    """AMap's URI: a marker at the store (GCJ-02, as AMap wants), else a search for its address."""
    if store.has_point:
        point = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
        query = {"position": f"{point.lon:.6f},{point.lat:.6f}", "name": store.name, "src": "storematrix",
                 "coordinate": "gaode", "callnative": "1"}
        return "https://uri.amap.com/marker?" + urlencode(query, quote_via=quote)
    keyword = region_name(store.city_code) + region_name(store.district_code) + (store.address or store.name)
    return "https://uri.amap.com/search?" + urlencode({"keyword": keyword, "src": "storematrix", "callnative": "1"},
                                                      quote_via=quote)


def public_accounts(store_id: int, locale: str) -> list[PublicAccount]:
    """The store's own accounts customers can follow, in the platforms' order."""
    rows = db.session.scalars(select(Account).options(joinedload(Account.platform))
                              .where(Account.store_id == store_id, Account.scope == AccountScope.STORE,
                                     Account.status.in_(SHOWN_ACCOUNT_STATUSES)))
    accounts = sorted(rows, key=lambda a: (a.platform.sort_order, a.platform.id, a.id))
    return [PublicAccount(a.platform.label(locale), a.handle, a.display_name or a.handle, web_url(a.profile_url))
            for a in accounts]


def next_sessions(store_id: int, *, locale: str, zone: str, now: datetime) -> list[PublicSession]:
    """The store's live sessions on now or still to come, soonest first."""
    tz = ZoneInfo(zone)
    rows = db.session.scalars(select(LiveSession).options(joinedload(LiveSession.account).joinedload(Account.platform))
                              .where(LiveSession.store_id == store_id, LiveSession.ends_at > now,
                                     LiveSession.status.in_((SessionStatus.SCHEDULED, SessionStatus.LIVE)))
                              .order_by(LiveSession.starts_at).limit(SESSIONS_SHOWN))
    return [PublicSession(starts_label(s.starts_at.astimezone(tz)), s.title,
                          s.account.platform.label(locale), s.account.display_name or s.account.handle,
                          s.status == SessionStatus.LIVE or s.starts_at <= now)
            for s in rows]


def web_url(url: str | None) -> str | None:
    """A link a page may carry: http(s) only (never javascript: or data:)."""
    text = (url or "").strip()
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.netloc else None
