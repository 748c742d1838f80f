"""Who posts a session's trailers: the host, the brand's main accounts, the nearest sibling stores.

Prefetched once per sync for all its sessions, so a whole imported week costs a few queries.
A sibling store that is live itself while the session runs is never asked to announce it: the
two compete for the same local viewers, and its anchor is busy anyway.
"""
from datetime import datetime

from sqlalchemy import and_, or_, select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.brands.models import Brand
from matrix.communities.services import current_groups
from matrix.content.spacing import Site, km_between
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus, TrailerRule
from matrix.stores.models import Store, StoreStatus

POSTING_STATUSES = (AccountStatus.ACTIVE, AccountStatus.INCUBATING)
BUSY_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.LIVE)


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
        self.busy = _busy_stores(sessions, in_cities)

    def is_busy(self, store_id: int, session: LiveSession) -> bool:
        """Is this store live itself (scheduled or on air) at some moment of `session`?"""
        return any(start < session.ends_at and end > session.starts_at and other != session.id
                   for other, start, end in self.busy.get(store_id, ()))

    def siblings(self, session: LiveSession, rule: TrailerRule) -> list[int]:
        """The nearest other open stores of the host's brand and city (within the rule's distance)."""
        host = self.hosts.get(session.store_id)
        if host is None or rule.max_siblings <= 0:
            return []
        here = Site(host.id, host.city_code, host.lon, host.lat)
        located = host.lon is not None and host.lat is not None
        found = []
        for site, brand_id in self.by_city.get(host.city_code, ()):
            if site.id == host.id or brand_id != host.brand_id or self.is_busy(site.id, session):
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


def _busy_stores(sessions: list[LiveSession], in_cities: tuple) -> dict[int, list[tuple[int, datetime, datetime]]]:
    """Store id -> (session id, start, end) of the sessions of the hosts' cities' stores overlapping `sessions`."""
    if not sessions:
        return {}
    first, last = min(s.starts_at for s in sessions), max(s.ends_at for s in sessions)
    busy: dict[int, list] = {}
    for session_id, store_id, start, end in db.session.execute(
            select(LiveSession.id, LiveSession.store_id, LiveSession.starts_at, LiveSession.ends_at)
            .where(LiveSession.store_id.in_(select(Store.id).where(*in_cities)),
                   LiveSession.status.in_(BUSY_STATUSES), LiveSession.starts_at < last, LiveSession.ends_at > first)):
        busy.setdefault(store_id, []).append((session_id, start, end))
    return busy


def overlapping_neighbours(sessions: list[LiveSession],
                           windows: list[tuple[int | None, datetime, datetime]] = ()) -> list[LiveSession]:
    """Scheduled sessions of other stores of the same cities overlapping `sessions` (or `windows`, e.g. a moved
    session's old time): booking, moving or cancelling a session changes which siblings may announce them."""
    spans = [(s.store_id, s.starts_at, s.ends_at) for s in sessions if s.store_id] + \
        [w for w in windows if w[0]]
    if not spans:
        return []
    city_of = dict(db.session.execute(select(Store.id, Store.city_code)
                                      .where(Store.id.in_({store_id for store_id, _s, _e in spans}))).tuples().all())
    by_city: dict[str, list[tuple[int, datetime, datetime]]] = {}
    for store_id, start, end in spans:
        by_city.setdefault(city_of.get(store_id), []).append((store_id, start, end))
    first, last = min(start for _i, start, _e in spans), max(end for _i, _s, end in spans)
    candidates = db.session.execute(
        select(LiveSession, Store.city_code).join(Store, Store.id == LiveSession.store_id)
        .where(Store.city_code.in_([c for c in by_city if c]), LiveSession.status == SessionStatus.SCHEDULED,
               LiveSession.id.not_in([s.id for s in sessions]), LiveSession.starts_at < last,
               LiveSession.ends_at > first).order_by(LiveSession.id)).tuples().all()
    return [other for other, city in candidates
            if any(store_id != other.store_id and start < other.ends_at and end > other.starts_at
                   for store_id, start, end in by_city.get(city, ()))]
