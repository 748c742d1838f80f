"""Who posts a session's trailers: the host, the brand's main accounts, the nearest sibling stores.

Prefetched once per sync for all its sessions, so a whole imported week costs a few queries.
"""
from sqlalchemy import and_, or_, select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.extensions import db
from matrix.live.models import LiveSession, TrailerRule
from matrix.communities.services import current_groups
from matrix.content.spacing import Site, km_between
from matrix.stores.models import Store, StoreStatus
from matrix.brands.models import Brand

POSTING_STATUSES = (AccountStatus.ACTIVE, AccountStatus.INCUBATING)


class Audience:
    """Prefetched accounts and stores: who posts a session's trailers.

    Only the accounts of the host cities' stores and of the sessions' brands are read: moving one
    session used to read every posting account of the chain (20,000 rows, 0.2 s per move).
    """

    def __init__(self, sessions: list[LiveSession]):
        cities = set()
        host_ids = {s.store_id for s in sessions if s.store_id}
        hosts = {}
        for row in db.session.execute(select(Store.id, Store.brand_id, Store.city_code, Store.lon, Store.lat,
                                             Store.code, Store.name, Store.district_code, Store.address,
                                             Store.phone, Brand.name.label("brand"))
                                      .outerjoin(Brand, Brand.id == Store.brand_id)
                                      .where(Store.id.in_(host_ids) if len(host_ids) <= 500 else Store.id > 0)):
            if row.id in host_ids:
                hosts[row.id] = row
                cities.add(row.city_code)
        self.hosts = hosts
        # City -> (site, brand id) of its open stores, as plain tuples: the sibling search reads them per session.
        self.by_city: dict[str, list[tuple[Site, int | None]]] = {}
        in_cities = (Store.city_code.in_(sorted(cities)), Store.archived_at.is_(None), Store.status == StoreStatus.OPEN)
        for row in db.session.execute(select(Store.id, Store.brand_id, Store.city_code, Store.lon, Store.lat)
                                      .where(*in_cities).order_by(Store.id)):
            self.by_city.setdefault(row.city_code, []).append((Site(row.id, row.city_code, row.lon, row.lat),
                                                               row.brand_id))
        store_ids = {site.id for rows in self.by_city.values() for site, _brand in rows}
        brand_ids = sorted({s.brand_id for s in sessions if s.brand_id})
        self.store_accounts: dict[int, list[tuple[int, int]]] = {}
        self.brand_accounts: dict[int, list[tuple[int, int]]] = {}
        for account_id, scope, store_id, brand_id, platform_id in db.session.execute(
                select(Account.id, Account.scope, Account.store_id, Account.brand_id, Account.platform_id)
                .where(Account.status.in_(POSTING_STATUSES),
                       or_(Account.store_id.in_(select(Store.id).where(*in_cities)),
                           and_(Account.scope == AccountScope.BRAND, Account.brand_id.in_(brand_ids))))
                .order_by(Account.id)):
            if scope == AccountScope.STORE and store_id in store_ids:
                self.store_accounts.setdefault(store_id, []).append((account_id, platform_id))
            elif scope == AccountScope.BRAND and brand_id is not None:
                self.brand_accounts.setdefault(brand_id, []).append((account_id, platform_id))
        self.accounts = {a.id: a for a in db.session.scalars(
            select(Account).where(Account.id.in_({s.account_id for s in sessions})))}
        self.platforms = {p.id: p for p in db.session.scalars(select(Platform))}
        self.communities = current_groups(host_ids) if host_ids else {}

    def siblings(self, session: LiveSession, rule: TrailerRule) -> list[int]:
        """The nearest other open stores of the host's brand and city (within the rule's distance)."""
        host = self.hosts.get(session.store_id)
        if host is None or rule.max_siblings <= 0:
            return []
        here = Site(host.id, host.city_code, host.lon, host.lat)
        located = host.lon is not None and host.lat is not None
        found = []
        for site, brand_id in self.by_city.get(host.city_code, ()):
            if site.id == host.id or brand_id != host.brand_id:
                continue
            km = None
            if located and site.lon is not None and site.lat is not None:
                km = km_between(here, site)
            if rule.sibling_km > 0 and (km is None or km > rule.sibling_km):
                continue
            found.append((km if km is not None else float("inf"), site.id))
        return [store_id for _km, store_id in sorted(found)[:rule.max_siblings]]

    def posters(self, session: LiveSession, rule: TrailerRule, step: dict,
                siblings: list[int]) -> list[tuple[int | None, int]]:
        """(store id, account id) of each account posting this step; the host first."""
        host_account = self.accounts[session.account_id]
        platform = host_account.platform_id
        fits = (lambda p: True) if rule.other_platforms else (lambda p: p == platform)
        out = [(session.store_id, session.account_id)]
        if step.get("brand") and session.brand_id:
            out += [(None, a) for a, p in self.brand_accounts.get(session.brand_id, ()) if fits(p)]
        if step.get("siblings"):
            for store_id in siblings:
                out += [(store_id, a) for a, p in self.store_accounts.get(store_id, ()) if fits(p)]
        seen, unique = set(), []
        for store_id, account_id in out:
            if account_id not in seen:
                seen.add(account_id)
                unique.append((store_id, account_id))
        return unique
