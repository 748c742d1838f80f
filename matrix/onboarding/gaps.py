"""What each store still lacks: an account on an enabled platform, a group, a group customers can join (a QR code
or a link). Read in three queries for the whole chain, whatever its size."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.accounts.platforms import ordered_platforms
from matrix.auth.models import User
from matrix.brands.models import Brand
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.onboarding.models import Handover
from matrix.permissions import visible_stores
from matrix.regions.services import region_name
from matrix.stores.chain_cache import chain_summary, store_fingerprint
from matrix.stores.models import Store, StoreStatus


@dataclass
class Group:
    id: int
    name: str
    active: bool
    joinable: bool  # has a QR code, an invite link or a WeCom chat (a join code): customers can get in


@dataclass
class StoreGaps:
    """One store and what it still lacks."""

    id: int
    code: str
    name: str
    brand: str | None
    city_code: str
    district_code: str | None
    missing: list[Platform] = field(default_factory=list)   # enabled platforms without an account
    groups: list[Group] = field(default_factory=list)       # in rotation order
    handed_at: object = None                                # when HQ handed the gaps to the managers

    @property
    def active_groups(self) -> list[Group]:
        return [g for g in self.groups if g.active]

    @property
    def needs_group(self) -> bool:
        return not self.active_groups

    @property
    def groups_without_code(self) -> list[Group]:
        return [g for g in self.active_groups if not g.joinable]

    @property
    def group_gap(self) -> bool:
        """No group, or none a customer can join."""
        return self.needs_group or not any(g.joinable for g in self.active_groups)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.group_gap

    @property
    def open_tasks(self) -> int:
        return len(self.missing) + (1 if self.group_gap else 0)


@dataclass
class CityProgress:
    code: str
    name: str
    stores: int = 0
    complete: int = 0
    missing_accounts: int = 0    # store-platform pairs without an account
    with_accounts: int = 0       # stores with an account on every enabled platform
    group_gaps: int = 0          # stores without a group customers can join
    handed_over: int = 0

    @property
    def percent(self) -> float:
        return round(100 * self.complete / self.stores, 1) if self.stores else 100.0


def chain_gaps(user: User, *, city: str | None = None, store_ids: list[int] | None = None) -> list[StoreGaps]:
    """Every store the user sees that is not closed, in city and code order, with what it lacks."""
    query = (visible_stores(user).where(Store.status != StoreStatus.CLOSED)
             .outerjoin(Brand, Brand.id == Store.brand_id)
             .with_only_columns(Store.id, Store.code, Store.name, Brand.name, Store.city_code, Store.district_code)
             .order_by(Store.city_code, Store.code))
    if city:
        query = query.where(Store.city_code == city)
    if store_ids is not None:
        query = query.where(Store.id.in_(store_ids))
    stores = [StoreGaps(*row) for row in db.session.execute(query)]
    if not stores:
        return []
    wanted = {s.id for s in stores}
    platforms = ordered_platforms(enabled_only=True)
    covered = defaultdict(set)
    accounts = select(Account.store_id, Account.platform_id).where(Account.scope == AccountScope.STORE,
                                                                   Account.status != AccountStatus.RETIRED)
    for store_id, platform_id in db.session.execute(_only(accounts, Account.store_id, wanted)):
        if store_id in wanted:
            covered[store_id].add(platform_id)
    groups = defaultdict(list)
    communities = (select(Community.store_id, Community.id, Community.name, Community.active,
                          Community.qr_mime.is_not(None), Community.invite_link, Community.wecom_chat_id)
                   .order_by(Community.store_id, Community.rotation_order, Community.id))
    for row in db.session.execute(_only(communities, Community.store_id, wanted)):
        if row[0] in wanted:
            groups[row[0]].append(Group(row[1], row[2], row[3], bool(row[4] or row[5] or row[6])))
    handovers = _only(select(Handover.store_id, Handover.handed_at), Handover.store_id, wanted)
    handed = dict(db.session.execute(handovers).tuples().all())
    for store in stores:
        store.missing = [p for p in platforms if p.id not in covered[store.id]]
        store.groups = groups[store.id]
        store.handed_at = handed.get(store.id)
    return stores


def hq_chain_gaps(user: User, *, city: str | None = None) -> list[StoreGaps]:
    """chain_gaps for HQ (who see every store), kept per process until a store, account, group, hand-over,
    platform or brand changes: HQ's setup pages read the whole chain (about 250 ms at 10,000 stores).
    Shared between requests: read it, never change it."""
    if not user.is_hq:
        return chain_gaps(user, city=city)
    return chain_summary(("onboarding_gaps", city), lambda: chain_gaps(user, city=city), fingerprint=_gaps_fingerprint)


def _gaps_fingerprint() -> tuple:
    """Changes whenever a row the gaps are read from is added, changed or removed (through the ORM)."""
    marks = [store_fingerprint()]
    for counted, latest in ((Account.id, Account.updated_at), (Community.id, Community.updated_at),
                            (Handover.id, Handover.handed_at), (Brand.id, Brand.id)):
        marks.append(tuple(map(str, db.session.execute(select(func.count(counted), func.max(latest))).one())))
    marks.append(tuple(db.session.scalars(select(Platform.id).where(Platform.enabled).order_by(Platform.id))))
    return tuple(marks)


def _only(query, column, ids: set[int]):
    """A few stores (a manager's): ask for theirs. A chain: one scan filtered in Python, cheaper than an IN list
    of 10,000 ids."""
    return query.where(column.in_(ids)) if len(ids) <= 500 else query


def progress_by_city(stores: list[StoreGaps]) -> list[CityProgress]:
    """Counts and the share of complete stores per city, and for the whole chain (the last row, code "")."""
    cities: dict[str, CityProgress] = {}
    total = CityProgress("", "")
    for store in stores:
        city = cities.setdefault(store.city_code, CityProgress(store.city_code, region_name(store.city_code)))
        for row in (city, total):
            row.stores += 1
            row.complete += store.complete
            row.missing_accounts += len(store.missing)
            row.with_accounts += not store.missing
            row.group_gaps += store.group_gap
            row.handed_over += store.handed_at is not None
    return sorted(cities.values(), key=lambda c: (c.percent, c.code)) + [total]
