"""Routing rules for leads, in order, with the reason recorded; HQ's reassignment."""
import pytest
from flask_babel import force_locale
from geographiclib.geodesic import Geodesic
from sqlalchemy import select
from sqlalchemy.orm import Session

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.models import Lead, LeadSource, LeadStatus, RoutingRule, SourceKind
from matrix.notifications.models import Notification
from matrix.leads.routing import assign_lead, open_lead_counts, reassign_lead
from matrix.leads.store_index import StoreIndex
from matrix.regions.services import region_centre
from matrix.stores import services as store_services
from matrix.stores import values as store_values
from matrix.stores.models import Store, StoreStatus

WEST_LAKE = "330106"


def at(origin, azimuth, metres):
    g = Geodesic.WGS84.Direct(origin[1], origin[0], azimuth, metres)
    return {"lon": g["lon2"], "lat": g["lat2"]}


@pytest.fixture
def centre(app):
    return region_centre(WEST_LAKE)


@pytest.fixture
def make_lead(app):
    def build(lon=None, lat=None, city="", address="", province="", **extra) -> Lead:
        lead = Lead(name="王先生", lon=lon, lat=lat, province_text=province, city_text=city, address_text=address,
                    **extra)
        db.session.add(lead)
        return lead
    return build


def route(lead, **kwargs):
    with force_locale("en"):
        return assign_lead(lead, **kwargs)


def test_coordinates_pick_the_nearest_open_covering_store(make_store, make_lead, make_community, centre):
    near = make_store(**at(centre, 0, 500))
    make_store(**at(centre, 180, 1500))
    group = make_community(near)
    lead = make_lead(*centre)
    routing = route(lead)
    assert (lead.store_id, lead.routing_rule, lead.community_id) == (near.id, RoutingRule.COORDINATES, group.id)
    assert routing.distance_m == pytest.approx(500, abs=0.2)  # stores keep 6 decimals and lead.distance_m == routing.distance_m
    assert "500 m" in lead.routing_reason and lead.routed_at is not None
    assert lead.city_code == "330100"  # from the store: the lead is inside its radius


@pytest.mark.parametrize("status", [StoreStatus.CLOSED, StoreStatus.CLOSED_TEMPORARILY, StoreStatus.PLANNED])
def test_a_store_that_is_not_open_is_skipped_for_the_next(make_store, make_lead, centre, status):
    make_store(status=status, **at(centre, 0, 200))
    farther = make_store(**at(centre, 90, 1200))
    lead = make_lead(*centre)
    route(lead)
    assert lead.store_id == farther.id and lead.routing_rule == RoutingRule.COORDINATES


def test_outside_every_radius_falls_back_to_the_place_text(make_store, make_lead, centre):
    store = make_store(service_radius_km=3.0, **at(centre, 0, 3100))
    lead = make_lead(*at(centre, 180, 100).values(), city="杭州市西湖区")
    route(lead)
    assert (lead.store_id, lead.routing_rule, lead.distance_m) == (store.id, RoutingRule.DISTRICT, None)
    assert lead.district_code == WEST_LAKE


def test_district_store_nearest_to_the_district_centre(make_store, make_lead, centre):
    make_store(**at(centre, 0, 2000))
    middle = make_store(**at(centre, 0, 100))
    make_store(district="上城区", **at(centre, 0, 50))
    lead = make_lead(city="杭州", address="西湖区文三路")
    route(lead)
    assert (lead.store_id, lead.routing_rule) == (middle.id, RoutingRule.DISTRICT)
    assert "nearest to its centre" in lead.routing_reason


def test_equally_placed_stores_are_balanced_by_open_leads(make_store, make_lead, centre):
    spot = at(centre, 45, 700)
    busy, quiet = make_store(**spot), make_store(**spot)
    db.session.add_all([Lead(store_id=busy.id, status=LeadStatus.NEW), Lead(store_id=busy.id, status=LeadStatus.CONTACTED),
                        Lead(store_id=quiet.id, status=LeadStatus.NEW)]
                       + [Lead(store_id=quiet.id, status=LeadStatus.CONVERTED) for _ in range(3)])
    db.session.commit()
    assert open_lead_counts([busy.id, quiet.id]) == {busy.id: 2, quiet.id: 1}
    by_point = make_lead(*centre)
    route(by_point)
    assert by_point.store_id == quiet.id and by_point.routing_rule == RoutingRule.COORDINATES
    by_text = make_lead(city="杭州市西湖区")  # now 2 open leads each: the lower id
    route(by_text)
    assert by_text.store_id == busy.id and "balanced by open leads" in by_text.routing_reason
    again = make_lead(city="杭州市西湖区")
    route(again)
    assert again.store_id == quiet.id


def test_stores_without_a_point_are_balanced_too(make_store, make_lead):
    first, second = make_store(lon=None, lat=None), make_store(lon=None, lat=None)
    db.session.add(Lead(store_id=first.id))
    db.session.commit()
    lead = make_lead(city="杭州 西湖")
    route(lead)
    assert lead.store_id == second.id


def test_no_store_in_the_district_goes_to_the_city_store_nearest_its_centre(make_store, make_lead, centre):
    make_store(district="余杭区", **at(region_centre("330110"), 0, 100))
    near = make_store(district="上城区", **at(region_centre("330102"), 0, 100))
    lead = make_lead(address="浙江省杭州市西湖区文三路")
    route(lead)
    assert (lead.store_id, lead.routing_rule) == (near.id, RoutingRule.CITY)
    assert (lead.city_code, lead.district_code) == ("330100", WEST_LAKE)


def test_city_only_goes_to_the_store_nearest_the_city_centre(make_store, make_lead):
    make_store(district="余杭区", **at(region_centre("330110"), 0, 100))
    central = make_store(district="江干区", **at(region_centre("330100"), 0, 300))
    lead = make_lead(address="浙江杭州")
    route(lead)
    assert (lead.store_id, lead.routing_rule) == (central.id, RoutingRule.CITY)
    assert "city centre" in lead.routing_reason


def test_source_store_when_nothing_else_decides(make_store, make_lead):
    store = make_store(city="南京", district="鼓楼区")
    source = LeadSource(name="门店表单", slug="form-1", kind=SourceKind.GENERIC, store_id=store.id)
    db.session.add(source)
    by_payload = make_lead(source_store_id=store.id)
    by_source = make_lead(source=source)
    route(by_payload), route(by_source)
    assert by_payload.store_id == by_source.store_id == store.id
    assert by_payload.routing_rule == by_source.routing_rule == RoutingRule.SOURCE


def test_a_closed_source_store_leaves_the_lead_unrouted_with_the_reason(make_store, make_lead):
    store = make_store(status=StoreStatus.CLOSED)
    lead = make_lead(source_store_id=store.id)
    route(lead)
    assert (lead.store_id, lead.routing_rule, lead.community_id) == (None, RoutingRule.UNROUTED, None)
    assert "no coordinates" in lead.routing_reason and "No recognisable city" in lead.routing_reason
    assert "which is not open" in lead.routing_reason


def test_unrouted_reasons(make_store, make_lead):
    nothing = make_lead()
    route(nothing)
    assert nothing.routing_rule == RoutingRule.UNROUTED
    assert nothing.routing_reason.startswith("The lead has no coordinates. No recognisable city")
    make_store(status=StoreStatus.CLOSED)
    closed_city = make_lead(city="杭州市")
    route(closed_city)
    assert closed_city.routing_rule == RoutingRule.UNROUTED and "No open store in 杭州市." in closed_city.routing_reason
    assert closed_city.city_code == "330100"  # HQ sees where the lead is


def test_the_first_group_with_room_and_a_warning_when_all_are_full(make_store, make_lead, make_community, centre):
    store = make_store(**centre_point(centre))
    make_community(store, capacity=200, members=200, rotation_order=1)
    second = make_community(store, capacity=200, members=10, rotation_order=2)
    lead = make_lead(*centre)
    assert route(lead).community_id == second.id
    second.members = 200
    db.session.commit()
    full = make_lead(*centre)
    route(full)
    assert full.store_id == store.id and full.community_id is None
    assert "groups are full or paused" in full.routing_reason
    bare = make_store(city="南京", district="鼓楼区")
    lonely = make_lead(source_store_id=bare.id)
    route(lonely)
    assert lonely.store_id == bare.id and "no group yet" in lonely.routing_reason


def centre_point(centre):
    return {"lon": centre[0], "lat": centre[1]}


def test_a_store_closed_by_another_process_is_skipped_by_the_next_lead(make_store, make_lead, centre):
    near, farther = make_store(**at(centre, 0, 200)), make_store(**at(centre, 0, 900))
    first = make_lead(*centre)
    route(first)
    assert first.store_id == near.id
    db.session.commit()
    with Session(db.engine) as other:  # another process, through the ORM (version and updated_at move)
        other.get(Store, near.id).status = StoreStatus.CLOSED
        other.commit()
    second = make_lead(*centre)
    route(second)
    assert second.store_id == farther.id


def test_a_store_closed_through_the_service_is_skipped(make_store, make_lead, make_user, centre):
    near, farther = make_store(**at(centre, 0, 200)), make_store(**at(centre, 0, 900))
    route(make_lead(*centre))
    cleaned = store_values.clean_store({"code": near.code, "name": near.name, "city": "杭州", "district": "西湖区",
                                        "status": "closed", "lon": near.lon, "lat": near.lat, "coord_system": "wgs84",
                                        "address": near.address})
    store_services.update_store(near, cleaned, actor=make_user(Role.ADMIN))
    lead = make_lead(*centre)
    route(lead)
    assert lead.store_id == farther.id


def test_a_stale_index_never_sends_a_lead_to_a_closed_store(make_store, make_lead, centre):
    near, farther = make_store(**at(centre, 0, 200)), make_store(**at(centre, 0, 900))
    stale = StoreIndex.from_db()
    near.status = StoreStatus.CLOSED
    db.session.commit()
    lead = make_lead(*centre)
    route(lead, index=stale)
    assert lead.store_id == farther.id


def test_a_lead_typed_in_for_a_store_stays_with_it(make_store, make_lead, centre):
    near, own = make_store(**at(centre, 0, 100)), make_store(**at(centre, 0, 2500))
    manual = LeadSource(name="手工录入", slug="manual", kind=SourceKind.MANUAL)
    db.session.add(manual)
    lead = make_lead(*centre, source=manual, source_store_id=own.id)
    route(lead)
    assert (lead.store_id, lead.routing_rule) == (own.id, RoutingRule.SOURCE)
    assert near.id != own.id


def test_hq_reassigns_by_hand_audited(make_store, make_lead, make_user, make_community, centre):
    first, second = make_store(**at(centre, 0, 100)), make_store(**at(centre, 0, 1000))
    group = make_community(second)
    lead = make_lead(*centre)
    route(lead)
    db.session.commit()
    operator = make_user(Role.OPERATOR)
    with force_locale("en"):
        routing = reassign_lead(lead, second, actor=operator)
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert (lead.store_id, lead.community_id, lead.routing_rule) == (second.id, group.id, RoutingRule.MANUAL)
    assert routing.distance_m == pytest.approx(1000, abs=0.2)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "lead", AuditEntry.action == "reassign"))
    assert entry.actor_id == operator.id and entry.entity_id == lead.id and entry.store_id == second.id
    assert entry.changes["store_id"] == [first.id, second.id]
    notices = db.session.scalars(select(Notification).where(Notification.lead_id == lead.id)).all()
    assert [n.store_id for n in notices] == [second.id]  # the new store hears of it


def test_only_hq_reassigns_and_only_to_an_open_store(make_store, make_lead, make_user, centre):
    store, other = make_store(**centre_point(centre)), make_store()
    closed = make_store(status=StoreStatus.CLOSED)
    lead = make_lead(*centre)
    route(lead)
    db.session.commit()
    manager = make_user(Role.STORE_MANAGER, stores=[store, other])
    with pytest.raises(DomainError):
        reassign_lead(lead, other, actor=manager)
    with pytest.raises(DomainError):
        reassign_lead(lead, closed, actor=make_user(Role.ADMIN))
    db.session.rollback()
    assert db.session.get(Lead, lead.id).store_id == store.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reassign")) is None
