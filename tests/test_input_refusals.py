"""Inputs that answered 500 answer a clear 4xx; webhook refusals are logged as refused deliveries.

An upload over the limit (the 413 page read the form and raised 413 again), deeply nested JSON
(RecursionError), a bare NaN or Infinity (PostgreSQL's JSON column refuses it), a phone number
given as a list (the lead was stored without a phone), Unicode digits that dodged the duplicate check.
"""
import io

import pytest
from fixtures_hooks import count, deliver, rejections
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.leads import phones
from matrix.leads.intake import LeadInput, accept_lead
from matrix.leads.models import Lead, LeadNote
from matrix.leads.sources import create_source

PHONE = "13800138000"


@pytest.fixture
def generic(app, make_user):
    return create_source(name="官网表单", kind="generic", slug="site-form", actor=make_user())


def test_an_upload_over_the_limit_answers_a_413_page(app, client, make_user, login, post, monkeypatch):
    login(make_user(Role.OPERATOR))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = post("/imports/", {"kind": "stores", "file": (io.BytesIO(b"x" * 10_000), "stores.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 413
    assert "The file is too large." in response.get_data(as_text=True)


def test_an_oversized_json_call_gets_json(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = client.post("/login", data=b"x" * 10_000, headers={"Accept": "application/json"},
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and response.get_json() == {"error": "The file is too large."}


@pytest.mark.parametrize("body", [
    b'{"id": "L-1", "phone": "13800138000", "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    b'{"id": "L-1", "phone": "13800138000", "x": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"}",
    b'{"id": "L-1", "phone": "13800138000", "x": ' + b"[" * 200 + b"]" * 200 + b"}",
])
def test_deeply_nested_json_is_refused_and_logged(client, generic, body):
    source, secret = generic
    response = deliver(client, source, secret, None, raw=body)
    assert response.status_code == 400
    assert response.get_json()["code"] == "too_deep"
    assert count(Lead) == 0 and [r.reason for r in rejections()] == ["too_deep"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_json_does_not_have_are_refused_and_logged(client, generic, value):
    source, secret = generic
    body = ('{"id": "L-1", "phone": "13800138000", "score": %s}' % value).encode()
    response = deliver(client, source, secret, None, raw=body)
    assert response.status_code == 400 and response.get_json()["code"] == "bad_json"
    assert count(Lead) == 0 and [(r.reason, r.status_code) for r in rejections()] == [("bad_json", 400)]


@pytest.mark.parametrize("phone", [[PHONE], {"number": PHONE}, True, ["13800138000", "13900139000"]])
def test_a_phone_that_is_not_text_is_refused_not_dropped(client, generic, phone):
    source, secret = generic
    response = deliver(client, source, secret, {"id": "L-1", "phone": phone, "city": "杭州"})
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_field"
    assert count(Lead) == 0 and [r.reason for r in rejections()] == ["invalid_field:phone"]


@pytest.mark.parametrize("written", ["１３８００１３８０００", "+８６ １３８-００１３-８０００", "١٣٨٠٠١٣٨٠٠٠",
                                     "१३८००१३८०००", "138\u200b0013\u20138000", "（138）0013 8000"])
def test_unicode_digits_are_the_same_phone(app, written):
    assert phones.normalise_phone(written) == PHONE
    assert phones.phone_hash(written) == phones.phone_hash(PHONE)


@pytest.mark.parametrize("bad", ["138OO138OOO", "13800138000 or 13900139000", "13800138000x", "tel:13800138000",
                                 "½3800138000", "一三八００一三八０００", "13800138000\n13900139000"])
def test_what_is_not_a_phone_is_refused(app, bad):
    with pytest.raises(phones.PhoneError):
        phones.normalise_phone(bad)


def test_a_full_width_number_is_found_as_a_duplicate(app, generic, make_store):
    source, _secret = generic
    make_store(code="HZ-1", lon=120.13, lat=30.26, coord_system="wgs84", service_radius_km=5)
    first, _ = accept_lead(LeadInput(external_id="a", phone=PHONE, lon=120.13, lat=30.26, coord_system="wgs84"),
                           source=source)
    second, _ = accept_lead(LeadInput(external_id="b", phone="１３８００１３８０００", lon=120.13, lat=30.26,
                                      coord_system="wgs84"), source=source)
    assert first.store_id and second.store_id == first.store_id and second.phone_hash == first.phone_hash
    notes = db.session.scalars(select(LeadNote.body).where(LeadNote.lead_id == second.id)).all()
    assert notes == [f"Same phone number as lead #{first.id}."]
