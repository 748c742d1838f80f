"""Lead webhooks accepted durably (LEAD_ROUTING = "worker"): stored once before the 200, routed by the worker
through the same intake, each delivery once; a delivery whose routing raises is kept as failed for HQ."""
import pytest
from fixtures_hooks import LEAD, PHONE, count, deliver
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.leads import deliveries, intake
from matrix.leads.models import DeliveryState, InboundDelivery, Lead
from matrix.notifications.models import Notification


@pytest.fixture
def queued(app, monkeypatch):
    """The production set-up: the request stores, the worker routes."""
    monkeypatch.setitem(app.config, "LEAD_ROUTING", "worker")


def stored() -> list[InboundDelivery]:
    db.session.expire_all()
    return db.session.scalars(select(InboundDelivery).order_by(InboundDelivery.id)).all()


def test_the_webhook_stores_the_delivery_once_and_the_worker_makes_its_lead(client, generic, queued, make_store,
                                                                            make_staff_channel):
    store = make_store(code="HZ-1", lon=120.13, lat=30.26, service_radius_km=5)
    make_staff_channel(store, "KEYINTAKE1")
    source, secret = generic
    payload = {**LEAD, "lon": 120.131, "lat": 30.261, "coord_system": "wgs84"}
    first, again = (deliver(client, source, secret, payload).get_json() for _ in range(2))
    assert first["ok"] and first["queued"] and not first["duplicate"] and "lead_id" not in first
    assert again["duplicate"] and again["delivery_id"] == first["delivery_id"]
    [delivery] = stored()
    assert delivery.state == DeliveryState.PENDING and delivery.dedupe_key == "L-1"
    assert PHONE.encode() not in delivery.body_encrypted  # the body holds the phone: kept encrypted
    assert count(Lead) == 0 and count(Notification) == 0  # nothing routed inside the request

    assert deliveries.route_waiting() == (1, 0)
    [delivery] = stored()
    lead = db.session.get(Lead, delivery.lead_id)
    assert delivery.state == DeliveryState.ROUTED and delivery.body_encrypted is None
    assert lead.store_id == store.id and lead.phone_masked == "139****5678" and lead.external_id == "L-1"
    assert count(Notification) == 1  # the staff alert, queued once
    assert deliveries.route_waiting() == (0, 0) and count(Lead) == 1
    retried = deliver(client, source, secret, payload).get_json()
    assert retried["duplicate"] and retried["lead_id"] == lead.id and count(Lead) == 1


def test_refusals_still_happen_at_the_door(client, generic, queued):
    source, secret = generic
    response = deliver(client, source, secret, {**LEAD, "phone": "12345"})
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_field"
    assert stored() == []


def test_a_delivery_whose_routing_raises_is_kept_failed_and_the_batch_goes_on(client, generic, queued, monkeypatch):
    source, secret = generic
    for n in range(3):
        assert deliver(client, source, secret, {**LEAD, "id": f"L-{n}"}).status_code == 200
    real = intake.stage_lead

    def second_breaks(data, **kwargs):
        if data.external_id == "L-1":
            raise ValueError("a bug in routing")
        return real(data, **kwargs)
    monkeypatch.setattr(intake, "stage_lead", second_breaks)
    assert deliveries.route_waiting() == (2, 1)
    states = {d.dedupe_key: (d.state, d.error) for d in stored()}
    assert states["L-1"] == (DeliveryState.FAILED, "ValueError: a bug in routing")
    assert states["L-0"][0] == states["L-2"][0] == DeliveryState.ROUTED
    monkeypatch.undo()
    assert deliveries.route_waiting() == (0, 0) and count(Lead) == 2  # never retried by itself
    assert deliveries.backlog() == deliveries.Backlog(waiting=0, failed=1)


def test_hq_sees_the_deliveries_waiting_and_the_failed_ones(client, generic, queued, login, make_user):
    source, secret = generic
    for n in range(2):
        deliver(client, source, secret, {**LEAD, "id": f"W-{n}"})
    db.session.execute(db.update(InboundDelivery).where(InboundDelivery.dedupe_key == "W-1")
                       .values(state=DeliveryState.FAILED, error="ValueError: broken"))
    db.session.commit()
    login(make_user(Role.OPERATOR))
    page = client.get("/leads/").get_data(as_text=True)
    assert "1 webhook delivery waiting to be routed." in page and "1 delivery could not be routed." in page
    refused = client.get("/sources/rejected").get_data(as_text=True)
    assert "ValueError: broken" in refused and PHONE not in refused


def test_the_worker_command_routes_what_waits(app, client, generic, queued):
    source, secret = generic
    deliver(client, source, secret, LEAD)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "lead deliveries routed 1, failed 0" in result.output
    assert [d.state for d in stored()] == [DeliveryState.ROUTED] and count(Lead) == 1


def test_workers_routing_at_once_make_each_lead_once(app, client, generic, queued):
    """Several workers on PostgreSQL: each claims its own batch (FOR UPDATE SKIP LOCKED), none routes one twice."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    source, secret = generic
    for n in range(40):
        deliver(client, source, secret, {**LEAD, "id": f"P-{n}", "phone": f"1391234{n:04d}"})
    results, barrier = [], threading.Barrier(3)

    def work():
        with app.app_context():
            barrier.wait()
            results.append(deliveries.route_pending(limit=5))
            results.append(deliveries.route_waiting())
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(routed for routed, _failed in results) == 40 and count(Lead) == 40
    assert {d.state for d in stored()} == {DeliveryState.ROUTED} and len({d.lead_id for d in stored()}) == 40
