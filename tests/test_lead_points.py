"""Coordinates refused at intake are recorded as refused, with the reason, not as "no coordinates"."""
import pytest
from fixtures_hooks import deliver
from flask_babel import force_locale
from sqlalchemy import select

from matrix.extensions import db
from matrix.leads.intake import LeadInput, accept_lead
from matrix.leads.models import LeadNote
from matrix.leads.sources import create_source

PHONE = "13800138000"


@pytest.fixture
def source(app, make_user):
    return create_source(name="官网表单", kind="generic", slug="site-form", actor=make_user())


def notes(lead) -> list[str]:
    return list(db.session.scalars(select(LeadNote.body).where(LeadNote.lead_id == lead.id)))


@pytest.mark.parametrize("lon, lat, why", [
    (30.27, 120.15, "Longitude and latitude look swapped"),
    (2.35, 48.85, "is outside China"),
    (120.15, None, "only one of longitude and latitude was given"),
    ("东经120度", 30.27, "coordinates must be numbers"),
    (720.0, 30.27, "Longitude must be between -180 and 180"),
])
def test_a_refused_point_says_why(app, source, make_store, lon, lat, why):
    make_store(code="HZ-1", city="杭州", district="西湖区", lon=120.13, lat=30.26, service_radius_km=5)
    with app.test_request_context(), force_locale("en"):
        lead, _ = accept_lead(LeadInput(external_id="p", phone=PHONE, lon=lon, lat=lat, city="杭州",
                                        district="西湖区"), source=source[0])
    assert lead.lon is None and lead.lat is None and lead.store_id  # routed by its district instead
    assert "The lead's coordinates (" in lead.routing_reason and why in lead.routing_reason
    assert "has no coordinates" not in lead.routing_reason
    [note] = notes(lead)
    assert note.startswith("The lead's coordinates (") and why in note


def test_an_unrouted_lead_names_the_refused_point(app, source):
    with app.test_request_context(), force_locale("en"):
        lead, _ = accept_lead(LeadInput(external_id="q", phone=PHONE, lon=30.27, lat=120.15), source=source[0])
    assert lead.store_id is None and "look swapped" in lead.routing_reason
    assert "has no coordinates" not in lead.routing_reason


def test_a_lead_without_coordinates_still_says_so(app, source):
    with app.test_request_context(), force_locale("en"):
        lead, _ = accept_lead(LeadInput(external_id="r", phone=PHONE), source=source[0])
    assert "The lead has no coordinates." in lead.routing_reason and notes(lead) == []


def test_a_webhook_point_that_is_not_a_number_is_named(client, source):
    made, secret = source
    response = deliver(client, made, secret, {"id": "w", "phone": PHONE, "lon": "abc", "lat": "30.2"})
    assert response.status_code == 200
    lead_id = response.get_json()["lead_id"]
    [note] = db.session.scalars(select(LeadNote.body).where(LeadNote.lead_id == lead_id))
    assert "(abc, 30.2)" in note
