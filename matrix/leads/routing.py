"""Decide which store and which of its groups a lead goes to, and record why.

Rules, first that decides wins (each recorded as Lead.routing_rule with a reason):
1. coordinates: the nearest open store whose service radius covers the point (geodesic, WGS-84);
2. place text: the open store of the lead's district (several: nearest the district centre), else the
   city's open store nearest the district centre (or the city centre); equally placed stores
   (within 1 m, or no centre to measure from) are balanced by open leads, then the lower id;
3. source: the store the lead came through or names (account, POI, payload, the source's store);
4. otherwise unrouted, for HQ, with every reason the rules above gave.
Only OPEN stores receive leads: planned, temporarily closed, closed and archived ones are skipped
for the next candidate. A lead typed in by hand for a named store stays with that store.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import func, select

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.communities.models import Community
from matrix.communities.services import rotation
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads import alerts, places
from matrix.leads.models import Lead, LeadStatus, RoutingRule, SourceKind
from matrix.leads.store_index import ROUTABLE_STATUSES, StoreIndex, current_index, geodesic_m
from matrix.models import utcnow
from matrix.regions.services import region_centre, region_name
from matrix.stores.models import Store

OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED)
SAME_PLACE_M = 1.0   # stores this close to equally far from a centre are equally placed
REASON_MAX = 300
AUDITED_FIELDS = ["store_id", "community_id", "routing_rule", "routing_reason", "distance_m"]


@dataclass(frozen=True)
class Routing:
    store_id: int | None
    rule: RoutingRule
    reason: str
    distance_m: float | None = None
    community_id: int | None = None


def open_lead_counts(store_ids: Iterable[int]) -> dict[int, int]:
    """Leads still being worked (new or contacted) per store, in one grouped query."""
    ids = list(store_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Lead.store_id, func.count(Lead.id))
                              .where(Lead.store_id.in_(ids), Lead.status.in_(OPEN_LEAD_STATUSES))
                              .group_by(Lead.store_id))
    return {store_id: count for store_id, count in rows}


def assign_lead(lead: Lead, *, index: StoreIndex | None = None, now: datetime | None = None,
                refused_point: str | None = None) -> Routing:
    """Route the lead: set its store, group, rule, reason, distance, parsed place and routed_at (no commit).

    `refused_point` says why the coordinates the lead came with were dropped; the reason keeps it.
    """
    city_code, district_code = places.parse_place(lead.province_text, lead.city_text, lead.address_text)
    if city_code is None and lead.city_code:
        city_code, district_code = lead.city_code, lead.district_code
    notes: list[str] = []
    typed = _typed_for_store(lead)
    routing = _by_source(lead, notes) if typed else None
    routing = routing or _by_coordinates(lead, index, notes, refused_point) or _by_place(city_code, district_code, notes)
    if routing is None and not typed:
        routing = _by_source(lead, notes)
    routing = routing or Routing(None, RoutingRule.UNROUTED, " ".join(notes) or _("No rule could route this lead."))
    if routing.rule == RoutingRule.COORDINATES and city_code is None:
        # Inside the store's radius: the store's city is the lead's for the funnel.
        city_code = db.session.scalar(select(Store.city_code).where(Store.id == routing.store_id))
    community, warning = _group(routing.store_id)
    reason = f"{routing.reason} {warning}".strip() if warning else routing.reason
    if refused_point and refused_point not in reason:
        reason = f"{refused_point} {reason}"
    lead.store_id, lead.community_id = routing.store_id, community.id if community else None
    lead.routing_rule, lead.routing_reason, lead.distance_m = routing.rule, reason[:REASON_MAX], routing.distance_m
    lead.city_code, lead.district_code = city_code, district_code
    lead.routed_at = now or utcnow()
    return Routing(routing.store_id, routing.rule, lead.routing_reason, routing.distance_m, lead.community_id)


def reassign_lead(lead: Lead, store: Store, *, actor: User, now: datetime | None = None) -> Routing:
    """Give a lead to another open store by hand (HQ only, audited, commits)."""
    if actor is None or not actor.is_hq:
        raise DomainError(_("Only headquarters can reassign leads."))
    if not _routable(store):
        raise DomainError(_("Store %(store)s is not open and cannot receive leads.", store=_label(store)))
    if lead.store_id == store.id:
        raise DomainError(_("The lead is already with %(store)s.", store=_label(store)))
    before = audit.snapshot(lead, AUDITED_FIELDS)
    distance = None
    if lead.lon is not None and lead.lat is not None and store.has_point:
        distance = float(geodesic_m(lead.lon, lead.lat, store.lon, store.lat))
    community, warning = _group(store.id)
    reason = _("Reassigned by hand by %(user)s.", user=actor.display_name or actor.username)
    lead.store_id, lead.community_id = store.id, community.id if community else None
    lead.routing_rule, lead.distance_m = RoutingRule.MANUAL, distance
    lead.routing_reason = f"{reason} {warning}".strip()[:REASON_MAX] if warning else reason[:REASON_MAX]
    lead.routed_at = now or utcnow()
    audit.record(actor, "reassign", "lead", entity_id=lead.id, store_id=store.id,
                 summary=f"{store.code} {store.name}", changes=audit.diff(before, audit.snapshot(lead, AUDITED_FIELDS)))

    alerts.enqueue_for_lead(lead, now=lead.routed_at)
    db.session.commit()
    return Routing(store.id, RoutingRule.MANUAL, lead.routing_reason, distance, lead.community_id)


def _by_coordinates(lead: Lead, index: StoreIndex | None, notes: list[str],
                    refused_point: str | None = None) -> Routing | None:
    if lead.lon is None or lead.lat is None:
        notes.append(refused_point or _("The lead has no coordinates."))
        return None
    for fresh in (False, True):
        # The index may be a second old: a store closed since then is skipped with a fresh index.
        idx = index if index is not None and not fresh else current_index(check_every_s=0 if fresh else None)
        hit = idx.nearest_covering(lead.lon, lead.lat, open_leads=open_lead_counts)
        store = db.session.get(Store, hit.store_id) if hit else None
        if hit is None:
            notes.append(_("No open store's service radius covers the lead's point."))
            return None
        if _routable(store):
            return Routing(store.id, RoutingRule.COORDINATES,
                           _("%(store)s is the nearest open store covering the point, %(metres)d m away.",
                             store=_label(store), metres=round(hit.distance_m)), hit.distance_m)
    notes.append(_("No open store's service radius covers the lead's point."))
    return None


def _by_place(city_code: str | None, district_code: str | None, notes: list[str]) -> Routing | None:
    if city_code is None:
        notes.append(_("No recognisable city in the lead's place text."))
        return None
    stores = db.session.execute(
        select(Store.id, Store.code, Store.name, Store.lon, Store.lat, Store.district_code)
        .where(Store.city_code == city_code, Store.status.in_(ROUTABLE_STATUSES), Store.archived_at.is_(None))).all()
    centre = region_centre(district_code) if district_code else None
    if district_code:
        inside = [s for s in stores if s.district_code == district_code]
        if inside:
            chosen, balanced = _nearest_to(inside, centre)
            text = _("%(store)s is the open store of %(district)s.", store=_label(chosen),
                     district=region_name(district_code)) if len(inside) == 1 else \
                _("%(store)s is the open store of %(district)s nearest to its centre.", store=_label(chosen),
                  district=region_name(district_code))
            return Routing(chosen.id, RoutingRule.DISTRICT, _balanced(text, balanced))
    if not stores:
        notes.append(_("No open store in %(city)s.", city=region_name(city_code)))
        return None
    chosen, balanced = _nearest_to(stores, centre or region_centre(city_code))
    if district_code:
        text = _("No open store in %(district)s; %(store)s is the open store of %(city)s nearest to the district "
                 "centre.", district=region_name(district_code), store=_label(chosen), city=region_name(city_code))
    else:
        text = _("%(store)s is the open store of %(city)s nearest to the city centre.", store=_label(chosen),
                 city=region_name(city_code))
    return Routing(chosen.id, RoutingRule.CITY, _balanced(text, balanced))


def _nearest_to(stores: list, centre: tuple[float, float] | None):
    """(store, whether open leads decided): nearest to the centre; stores without a point rank last."""
    distance = np.full(len(stores), np.inf)
    if centre is not None:
        placed = [n for n, s in enumerate(stores) if s.lon is not None and s.lat is not None]
        if placed:
            distance[placed] = geodesic_m(centre[0], centre[1], [stores[n].lon for n in placed],
                                          [stores[n].lat for n in placed])
    best = distance.min()
    tied = [s for s, d in zip(stores, distance) if (d <= best + SAME_PLACE_M if np.isfinite(best) else True)]
    if len(tied) == 1:
        return tied[0], False
    counts = open_lead_counts(s.id for s in tied)
    return min(tied, key=lambda s: (counts.get(s.id, 0), s.id)), True


def _balanced(text: str, balanced: bool) -> str:
    return f"{text} {_('Equally placed stores were balanced by open leads.')}" if balanced else text


def _by_source(lead: Lead, notes: list[str]) -> Routing | None:
    store_id = lead.source_store_id or (lead.source.store_id if lead.source else None)
    if store_id is None:
        notes.append(_("The lead's source names no store."))
        return None
    store = db.session.get(Store, store_id)
    if store is None:
        notes.append(_("The lead's source names store %(id)s, which does not exist.", id=store_id))
        return None
    if not _routable(store):
        notes.append(_("The lead's source names %(store)s, which is not open.", store=_label(store)))
        return None
    return Routing(store.id, RoutingRule.SOURCE, _("%(store)s is the store the lead came through or names.",
                                                   store=_label(store)))


def _typed_for_store(lead: Lead) -> bool:
    """Staff typed the lead in for their own store, or a visitor left it on the store's page: it stays there."""
    return (lead.source_store_id is not None and lead.source is not None
            and lead.source.kind in (SourceKind.MANUAL, SourceKind.STOREFRONT))


def _group(store_id: int | None) -> tuple[Community | None, str]:
    """The store's current group (live code) and a warning for HQ and the store when there is none."""
    if store_id is None:
        return None, ""
    groups = rotation(store_id)
    current = next((c for c in groups if c.active and not c.is_full), None)
    if current is not None:
        return current, ""
    if not groups:
        return None, _("The store has no group yet: the lead has none to join.")
    return None, _("All of the store's groups are full or paused: the lead has none to join.")


def _routable(store: Store | None) -> bool:
    return store is not None and store.status in ROUTABLE_STATUSES and store.archived_at is None


def _label(store) -> str:
    return f"{store.code} {store.name}"
