"""The matrix overview: stores by city, platforms as columns, gaps and coverage.

A page costs a fixed number of queries whatever the chain's size: the platforms, two grouped
aggregates for coverage (HQ's kept per process, see matrix.stores.chain_cache), the page of stores
(with its count), those stores' accounts, their community flags and, for HQ, the brand main accounts.
"""
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, distinct, exists, func, or_, select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.auth.models import User
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.permissions import visible_accounts, visible_communities, visible_stores
from matrix.regions.services import region_name
from matrix.stores.chain_cache import chain_summary, store_fingerprint
from matrix.stores.models import Store, StoreStatus

PER_PAGE = 100
# An account counts towards coverage while it is run; restricted or banned ones do not reach people.
COVERING = (AccountStatus.ACTIVE, AccountStatus.INCUBATING)


@dataclass
class OverviewFilters:
    city: str | None = None            # city code
    status: StoreStatus | None = None
    platform: str | None = None        # platform code: show only that column
    gaps: bool = False                 # only stores missing an account on the shown platform(s)
    problems: bool = False             # only stores with a gap or a flag

    @classmethod
    def from_args(cls, args: Mapping) -> "OverviewFilters":
        """Read the filters from query arguments, ignoring values that make no sense."""
        city = (args.get("city") or "").strip()
        status = (args.get("status") or "").strip()
        return cls(city=city if city.isdigit() and len(city) == 6 else None,
                   status=StoreStatus(status) if status in StoreStatus._value2member_map_ else None,
                   platform=(args.get("platform") or "").strip() or None,
                   gaps=args.get("gaps") == "1", problems=args.get("problems") == "1")


@dataclass
class StoreRow:
    store: Store
    district: str
    cells: list[list]                  # per shown platform: (id, handle, display_name, status, followers) rows
    no_point: bool
    no_community: bool
    groups_full: bool

    @property
    def has_problem(self) -> bool:
        return self.no_point or self.no_community or self.groups_full or any(not c for c in self.cells)


@dataclass
class CityBlock:
    code: str
    name: str
    rows: list[StoreRow] = field(default_factory=list)


@dataclass
class CityCoverage:
    code: str
    name: str
    stores: int                        # every visible store of the city
    open_stores: int
    covered: dict[int, int] = field(default_factory=dict)  # platform id -> open stores with an account

    def percent(self, platform_id: int) -> float | None:
        return _percent(self.covered.get(platform_id, 0), self.open_stores)


@dataclass
class PlatformCoverage:
    platform: Platform
    open_stores: int
    covered: int

    @property
    def percent(self) -> float | None:
        return _percent(self.covered, self.open_stores)


@dataclass
class OverviewPage:
    filters: OverviewFilters
    platforms: list[Platform]          # every enabled platform (for the filter)
    columns: list[Platform]            # the ones shown as columns
    coverage: list[PlatformCoverage]
    cities: list[CityCoverage]
    blocks: list[CityBlock]
    pagination: Pagination
    brand_accounts: list[Account]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _has_account(platform_id: int):
    """A store has a (not retired) store account on the platform."""
    # "+ 0" keeps the planner on ix_accounts_store_id: without statistics SQLite may pick
    # ix_accounts_platform_id and read every account of the platform for each store (seconds, not ms).
    return exists().where(Account.store_id == Store.id, Account.platform_id + 0 == platform_id,
                          Account.scope == AccountScope.STORE, Account.status != AccountStatus.RETIRED)


def _problem_clause(columns: list[Platform]):
    usable_group = exists().where(Community.store_id == Store.id, Community.active.is_(True),
                                  Community.members < Community.capacity)
    return or_(*[~_has_account(p.id) for p in columns], Store.lon.is_(None), Store.lat.is_(None), ~usable_group)


def _filtered_stores(user: User, filters: OverviewFilters, columns: list[Platform]):
    query = visible_stores(user)
    if filters.city:
        query = query.where(Store.city_code == filters.city)
    if filters.status:
        query = query.where(Store.status == filters.status)
    if filters.gaps and columns:
        # A closed store has nothing to fill: its missing accounts are not gaps.
        query = query.where(Store.status != StoreStatus.CLOSED, or_(*[~_has_account(p.id) for p in columns]))
    if filters.problems:
        query = query.where(_problem_clause(columns))
    return query


def city_coverage(user: User) -> list[CityCoverage]:
    """Stores and coverage per city of the stores `user` sees; HQ's (the whole chain's) is kept per process."""
    if user.is_hq:
        return chain_summary("city_coverage", lambda: _city_coverage(user), fingerprint=_coverage_fingerprint)
    return _city_coverage(user)


def _coverage_fingerprint() -> tuple:
    """Moves when a store or an account is added, changed or removed (ORM updates set updated_at)."""
    accounts = db.session.execute(select(func.count(Account.id), func.max(Account.updated_at))).one()
    return *store_fingerprint(), int(accounts[0]), str(accounts[1])


def _city_coverage(user: User) -> list[CityCoverage]:
    """Two grouped queries: stores per city, and open stores with an account per city and platform."""
    counts = db.session.execute(visible_stores(user).with_only_columns(
        Store.city_code, func.count(), func.sum(case((Store.status == StoreStatus.OPEN, 1), else_=0)))
        .group_by(Store.city_code).order_by(Store.city_code))
    cities = {code: CityCoverage(code, region_name(code), total, int(open_ or 0)) for code, total, open_ in counts}
    covered = db.session.execute(
        visible_stores(user).with_only_columns(Store.city_code, Account.platform_id, func.count(distinct(Store.id)))
        .select_from(Store).join(Account, Account.store_id == Store.id)
        .where(Store.status == StoreStatus.OPEN, Account.scope == AccountScope.STORE,
               Account.status.in_(COVERING))
        .group_by(Store.city_code, Account.platform_id))
    for code, platform_id, n in covered:
        cities[code].covered[platform_id] = n
    return list(cities.values())


def platform_coverage(platforms: list[Platform], cities: list[CityCoverage]) -> list[PlatformCoverage]:
    """Coverage per platform, summed from the city rows (a store is in one city only)."""
    open_stores = sum(c.open_stores for c in cities)
    return [PlatformCoverage(p, open_stores, sum(c.covered.get(p.id, 0) for c in cities)) for p in platforms]


def _accounts_by_cell(user: User, store_ids: list[int], columns: list[Platform]) -> dict:
    rows = db.session.execute(
        visible_accounts(user).with_only_columns(Account.store_id, Account.platform_id, Account.id, Account.handle,
                                                 Account.display_name, Account.status, Account.followers)
        .where(Account.store_id.in_(store_ids), Account.scope == AccountScope.STORE,
               Account.status != AccountStatus.RETIRED)
        .order_by(Account.followers.desc()))
    # Platforms are filtered here, not in SQL: a platform_id IN (...) lures SQLite off the store_id index.
    shown = {p.id for p in columns}
    cells: dict[tuple[int, int], list] = defaultdict(list)
    for store_id, platform_id, *account in rows:
        if platform_id in shown:
            cells[(store_id, platform_id)].append(account)
    return cells


def _community_flags(user: User, store_ids: list[int]) -> dict[int, tuple[int, int]]:
    """store id -> (active groups, groups with room)."""
    rows = db.session.execute(
        visible_communities(user).with_only_columns(
            Community.store_id, func.count(), func.sum(case((Community.members < Community.capacity, 1), else_=0)))
        .where(Community.store_id.in_(store_ids), Community.active.is_(True))
        .group_by(Community.store_id))
    return {store_id: (n, int(room or 0)) for store_id, n, room in rows}


def _blocks(user: User, stores: list[Store], columns: list[Platform]) -> list[CityBlock]:
    ids = [s.id for s in stores]
    cells = _accounts_by_cell(user, ids, columns) if ids else {}
    groups = _community_flags(user, ids) if ids else {}
    blocks: list[CityBlock] = []
    for store in stores:
        if not blocks or blocks[-1].code != store.city_code:
            blocks.append(CityBlock(store.city_code, region_name(store.city_code)))
        active, room = groups.get(store.id, (0, 0))
        blocks[-1].rows.append(StoreRow(
            store, region_name(store.district_code), [cells.get((store.id, p.id), []) for p in columns],
            no_point=not store.has_point,
            no_community=active == 0, groups_full=active > 0 and room == 0))
    return blocks


def brand_accounts(user: User) -> list[Account]:
    """The brand main accounts (HQ only; managers see none)."""
    if not user.is_hq:
        return []
    return list(db.session.scalars(
        visible_accounts(user).join(Platform, Platform.id == Account.platform_id)
        # store_id IS NULL walks the store_id index instead of scanning every account for the scope.
        .where(Account.store_id.is_(None), Account.scope == AccountScope.BRAND,
               Account.status != AccountStatus.RETIRED)
        .order_by(Platform.sort_order, Platform.id, Account.followers.desc())))


def enabled_platforms() -> list[Platform]:
    return list(db.session.scalars(
        select(Platform).where(Platform.enabled.is_(True)).order_by(Platform.sort_order, Platform.id)))


def overview_page(user: User, filters: OverviewFilters, page: int = 1, per_page: int = PER_PAGE) -> OverviewPage:
    """Everything the overview shows for `user`, in a fixed number of queries."""
    platforms = enabled_platforms()
    chosen = [p for p in platforms if p.code == filters.platform]
    if not chosen:
        filters = replace(filters, platform=None)
    columns = chosen or platforms
    cities = city_coverage(user)
    scoped = [c for c in cities if c.code == filters.city] if filters.city else cities
    pagination = db.paginate(_filtered_stores(user, filters, columns).order_by(Store.city_code, Store.code),
                             page=max(page, 1), per_page=per_page, error_out=False)
    return OverviewPage(filters, platforms, columns, platform_coverage(platforms, scoped), cities,
                        _blocks(user, list(pagination.items), columns), pagination, brand_accounts(user))
