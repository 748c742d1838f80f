"""Same-city spacing clashes in a generated week: which stores post the same template in the same day and slot,
and moving the later stores' items to the next free slot.

Generation avoids clashes while it can; when a city has more stores than variants × slots it cannot, and these
are what is left. A clash is read from the stored items (so a store's own edits count), by store: every account
of a store posts at the same positions.
"""
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.chain import chain_language
from matrix.content.days import campaign_days, slot_start
from matrix.content.models import Approval, Campaign, ContentItem, ContentTemplate, ItemStatus
from matrix.content.spacing import KM_PER_DEG_LAT, KM_PER_DEG_LON_55N, Site, km_between
from matrix.extensions import db
from matrix.models import utcnow
from matrix.regions.services import region_name
from matrix.stores.chain_cache import chain_summary, store_fingerprint
from matrix.stores.models import Store
from matrix.transaction import transactional

MAX_SHOWN = 50  # clashes named on a page or in a report; the count covers all
MAX_NAMED = 6   # stores named in one clash (a city with more stores than variants × slots has many)


@dataclass
class Clash:
    """Stores near each other posting one template in one day and slot; the first (by id) keeps it."""

    city_code: str
    template_id: int
    topic: str
    day: date
    slot: str
    stores: list[tuple[int, str, str]] = field(default_factory=list)  # (id, code, name)

    def describe(self) -> str:
        names = "、".join(f"{code} {name}" for _id, code, name in self.stores[:MAX_NAMED])
        if len(self.stores) > MAX_NAMED:
            names += " " + _("and %(count)d more", count=len(self.stores) - MAX_NAMED)
        return _("%(city)s: %(stores)s all post “%(topic)s” on %(day)s at %(slot)s.", city=region_name(self.city_code),
                 stores=names, topic=self.topic, day=format_date(self.day, "EEE MM-dd"), slot=self.slot)


@dataclass
class FixReport:
    moved: list[str] = field(default_factory=list)       # "HZ-002 杭州滨江店: Tue 11-24 18:00 → Tue 11-24 20:30"
    unfixable: list[str] = field(default_factory=list)   # stores with no free slot, or items a store worked on

    def summary_message(self):
        return _l("Spacing: %(moved)d stores moved to a free slot, %(left)d could not be moved.",
                  moved=len(self.moved), left=len(self.unfixable))


def _week(monday: date) -> tuple[date, date]:
    return monday, monday + timedelta(days=6)


def _positions(campaign: Campaign, monday: date, *, clashing_only: bool) -> list:
    """(store, template, day, slot) of the week's items, with the store's place; optionally only shared ones."""
    first, last = _week(monday)
    items = ContentItem.__table__.c
    base = (select(items.store_id, items.template_id, items.day, items.slot).distinct()
            .where(items.campaign_id == campaign.id, items.day.between(first, last), items.template_id.is_not(None),
                   items.status != ItemStatus.CANCELLED))
    if clashing_only:
        # Only (template, day, slot) positions two stores share can clash: a grouped query finds them.
        shared = (select(items.template_id, items.day, items.slot)
                  .where(items.campaign_id == campaign.id, items.day.between(first, last),
                         items.template_id.is_not(None), items.status != ItemStatus.CANCELLED)
                  .group_by(items.template_id, items.day, items.slot)
                  .having(func.count(items.store_id.distinct()) > 1))
        base = base.where(tuple_(items.template_id, items.day, items.slot).in_(shared))
    rows = base.subquery()
    return db.session.execute(
        select(rows.c.store_id, rows.c.template_id, rows.c.day, rows.c.slot, Store.city_code, Store.lon, Store.lat,
               Store.code, Store.name).join(Store, Store.id == rows.c.store_id)
        .order_by(rows.c.template_id, rows.c.day, rows.c.slot, rows.c.store_id)).all()


class _Near:
    """Who is near whom: the same city (spacing 0), or within spacing_km (a store without a point: its city)."""

    def __init__(self, spacing_km: float):
        self.km = spacing_km

    def cell(self, site: Site) -> tuple:
        if self.km <= 0 or site.lon is None or site.lat is None:
            return (site.city_code,)
        return (math.floor(site.lon * KM_PER_DEG_LON_55N / self.km), math.floor(site.lat * KM_PER_DEG_LAT / self.km))

    def near(self, a: Site, b: Site) -> bool:
        if self.km <= 0 or None in (a.lon, a.lat, b.lon, b.lat):
            return a.city_code == b.city_code
        return km_between(a, b) <= self.km


def week_clashes(campaign: Campaign, monday: date) -> list[Clash]:
    """Every clash of the campaign's week, in day, slot and city order."""
    near, clashes = _Near(float(campaign.spacing_km or 0)), []
    topics = dict(db.session.execute(select(ContentTemplate.id, ContentTemplate.topic)
                                     .where(ContentTemplate.campaign_id == campaign.id)).tuples().all())
    groups = defaultdict(list)
    for row in _positions(campaign, monday, clashing_only=True):
        groups[(row.template_id, row.day, row.slot)].append(row)
    for (template_id, day, slot), rows in groups.items():
        for cluster in _clusters(rows, near):
            clashes.append(Clash(cluster[0].city_code, template_id, topics.get(template_id, ""), day, slot,
                                 [(r.store_id, r.code, r.name) for r in cluster]))
    return sorted(clashes, key=lambda c: (c.day, c.slot, c.city_code, c.stores[0][1]))


def shown_week_clashes(campaign: Campaign, monday: date) -> list[Clash]:
    """week_clashes for the campaign page, kept per process until the week's items or the stores change (a chain
    of 10,000 stores takes seconds to check). Shared between requests: read it, never change it."""
    key = ("week_clashes", campaign.id, monday, float(campaign.spacing_km or 0))
    return chain_summary(key, lambda: week_clashes(campaign, monday),
                         fingerprint=lambda: _week_fingerprint(campaign.id, monday))


def _week_fingerprint(campaign_id: int, monday: date) -> tuple:
    first, last = _week(monday)
    count, latest = db.session.execute(select(func.count(ContentItem.id), func.max(ContentItem.updated_at)).where(
        ContentItem.campaign_id == campaign_id, ContentItem.day.between(first, last))).one()
    return store_fingerprint(), int(count), str(latest)


def _clusters(rows: list, near: _Near) -> list[list]:
    """Groups of two or more stores linked by being near each other (union-find), each in store id order."""
    sites = [Site(r.store_id, r.city_code, r.lon, r.lat) for r in rows]
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_cell = defaultdict(list)
    for i, site in enumerate(sites):
        by_cell[near.cell(site)].append(i)
    for i, site in enumerate(sites):
        cell = near.cell(site)
        around = [cell] if len(cell) == 1 else [(cell[0] + dx, cell[1] + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        pointless = by_cell.get((site.city_code,), []) if len(cell) == 2 else []
        for j in [j for c in around for j in by_cell.get(c, [])] + pointless:
            if j > i and near.near(site, sites[j]):
                parent[root(j)] = root(i)
    found = defaultdict(list)
    for i in range(len(rows)):
        found[root(i)].append(rows[i])
    return [sorted(group, key=lambda r: r.store_id) for group in found.values() if len(group) > 1]


@transactional
def fix_clashes(campaign: Campaign, monday: date, *, actor: User, now: datetime, zone: str) -> FixReport:
    """Move each clashing store's items (all its accounts) to the first free slot; the first store keeps its own.

    Free: not past, inside the campaign's days, no item of the store there, no neighbour posting the template
    there. The same day comes first, then the days after, then before. Items a store worked on stay. One commit.
    """
    report, near = FixReport(), _Near(float(campaign.spacing_km or 0))
    free = [(d, s) for d in campaign_days(campaign, monday) for s in campaign.slots if slot_start(d, s, zone) > now]
    board = _Board(_positions(campaign, monday, clashing_only=False), near)
    with chain_language():  # the report's lines go to the audit log, written in the chain's language
        for clash in week_clashes(campaign, monday):
            for store_id, code, name in clash.stores[1:]:
                _move_store(campaign, clash, store_id, f"{code} {name}", board, free, report)
    audit.record(actor, "move", "campaign", entity_id=campaign.id, summary=report.summary_message(),
                 changes={"week": monday.isoformat(), "fixed": report.moved[:MAX_SHOWN],
                          "unfixable": report.unfixable[:MAX_SHOWN]})
    db.session.commit()
    return report


class _Board:
    """Where every store of the week posts what: its taken positions, and who uses each template position."""

    def __init__(self, rows: list, near: _Near):
        self.near = near
        self.taken: dict[int, set] = defaultdict(set)
        self.users: dict[tuple, list[Site]] = defaultdict(list)
        self.sites: dict[int, Site] = {}
        for row in rows:
            site = self.sites.setdefault(row.store_id, Site(row.store_id, row.city_code, row.lon, row.lat))
            self.taken[row.store_id].add((row.day, row.slot))
            self.users[(row.template_id, row.day, row.slot)].append(site)

    def fits(self, site: Site, template_id: int, position: tuple) -> bool:
        return position not in self.taken[site.id] and not any(
            other.id != site.id and self.near.near(site, other) for other in self.users[(template_id, *position)])

    def move(self, site: Site, template_id: int, origin: tuple, target: tuple) -> None:
        self.taken[site.id].discard(origin)
        self.taken[site.id].add(target)
        self.users[(template_id, *origin)] = [s for s in self.users[(template_id, *origin)] if s.id != site.id]
        self.users[(template_id, *target)].append(site)


def _candidates(origin: tuple, free: list[tuple]) -> list[tuple]:
    """Free positions, the same day first (later slots, then earlier), then the days after, then the days before."""
    day, slot = origin
    return sorted((p for p in free if p != origin),
                  key=lambda p: (p[0] != day, p[0] < day, abs((p[0] - day).days), p[1] < slot, p[1]))


def _move_store(campaign: Campaign, clash: Clash, store_id: int, label: str, board: _Board, free: list[tuple],
                report: FixReport) -> None:
    site, origin = board.sites[store_id], (clash.day, clash.slot)
    target = next((p for p in _candidates(origin, free) if board.fits(site, clash.template_id, p)), None)
    if target is None:
        report.unfixable.append(_("%(store)s: no free slot this week; add a variant or a slot.", store=label))
        return
    items = ContentItem.__table__.c
    moved = db.session.execute(update(ContentItem.__table__).where(
        items.campaign_id == campaign.id, items.store_id == store_id, items.template_id == clash.template_id,
        items.day == clash.day, items.slot == clash.slot, items.status == ItemStatus.PLANNED,
        items.edited_by_store.is_(False), items.approval == Approval.NOT_NEEDED)
        # Marked as edited, as a moved item is, so regenerating the week does not move it back.
        .values(day=target[0], slot=target[1], edited_by_store=True, updated_at=utcnow())).rowcount
    if not moved:
        report.unfixable.append(_("%(store)s: the store already worked on this item; it stays.", store=label))
        return
    board.move(site, clash.template_id, origin, target)
    report.moved.append(_("%(store)s: %(old)s → %(new)s", store=label, old=_when(origin), new=_when(target)))


def _when(position: tuple) -> str:
    return f"{format_date(position[0], 'EEE MM-dd')} {position[1]}"
