"""Lead pages through a web client: inbox, detail, pipeline, reveal, export, HQ pages, manual entry, scoping."""
import csv
import io
import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from matrix.audit.models import AuditEntry
from matrix.extensions import db
from matrix.leads.models import Lead, LeadNote, LeadStatus
from fixtures_leads import T0

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Pages in English, so messages match whatever the Chinese catalog says (see test_accounts_views)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def leads(lead_shop, make_lead, make_community):
    group = make_community(lead_shop["own"], name="西湖一群", invite_link="https://work.weixin.qq.com/gm/xihu1")
    mine = make_lead(lead_shop["own"], name="王小明", phone=PHONE, community_id=group.id, distance_m=1234.0,
                     routing_reason="nearest open store", address_text="文三路1号")
    theirs = make_lead(lead_shop["other"], name="上海李四", phone="13912349876")
    unrouted = make_lead(None, name="无处可去", phone="13700007777", routing_reason="no city in the address")
    return {"mine": mine, "theirs": theirs, "unrouted": unrouted, "group": group}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_inbox_shows_masked_phones_and_only_the_managers_store(client, login, lead_shop, leads):
    login(lead_shop["manager"])
    html = client.get("/leads/").get_data(as_text=True)
    for text in ("王小明", "138****5678", "1.2 km", "西湖一群", "HZ-001"):
        assert text in html
    for text in (PHONE, "上海李四", "无处可去", "13912349876"):
        assert text not in html
    assert "Unrouted queue" not in html and 'name="include_phones"' not in html
    assert "王小明" in client.get("/leads/", query_string={"q": "138 1234 5678"}).get_data(as_text=True)
    assert "上海李四" not in client.get("/leads/", query_string={"q": "13912349876"}).get_data(as_text=True)


def test_inbox_lists_without_a_query_per_row(client, login, lead_shop, make_lead, make_community):
    from sqlalchemy import event

    login(lead_shop["hq"])

    def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/leads/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    group = make_community(lead_shop["own"])
    make_lead(lead_shop["own"], community_id=group.id)
    one = statements()
    for i in range(12):
        store = lead_shop["own"] if i % 2 else lead_shop["other"]
        make_lead(store, name=f"客户{i}", community_id=group.id if i % 2 else None)
    assert statements() == one


def test_hq_sees_every_lead_and_filters_by_city_and_store(client, login, lead_shop, leads):
    login(lead_shop["hq"])
    html = client.get("/leads/").get_data(as_text=True)
    assert all(name in html for name in ("王小明", "上海李四", "无处可去"))
    html = client.get("/leads/", query_string={"city": lead_shop["other"].city_code}).get_data(as_text=True)
    assert "上海李四" in html and "王小明" not in html
    html = client.get("/leads/", query_string={"store": lead_shop["own"].id}).get_data(as_text=True)
    assert "王小明" in html and "上海李四" not in html


def test_detail_status_note_and_follow_up(client, login, post, lead_shop, leads):
    lead = leads["mine"]
    login(lead_shop["manager"])
    html = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    for text in ("王小明", "138****5678", "nearest open store", "西湖一群", "Reveal the number", "Not contacted yet"):
        assert text in html
    assert PHONE not in html
    response = post(f"/leads/{lead.id}/status", {"status": "lost", "lost_reason": ""})
    assert response.status_code == 422 and "Say why the lead was lost." in response.get_data(as_text=True)
    assert post(f"/leads/{lead.id}/status", {"status": "contacted"}).status_code == 302
    db.session.expire_all()
    assert lead.status == LeadStatus.CONTACTED and lead.first_contact_at is not None
    assert post(f"/leads/{lead.id}/notes", {"body": "约了周六到店"}).status_code == 302
    assert post(f"/leads/{lead.id}/notes", {"body": ""}).status_code == 422
    assert post(f"/leads/{lead.id}/follow-up", {"follow_up_at": "2024-05-08T15:30"}).status_code == 302
    db.session.expire_all()
    assert lead.follow_up_at == T0.replace(day=8, hour=7, minute=30)  # 15:30 in Shanghai
    html = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "约了周六到店" in html and 'value="2024-05-08T15:30"' in html
    assert post(f"/leads/{lead.id}/follow-up", {"follow_up_at": "", "clear": "1"}).status_code == 302
    db.session.expire_all()
    assert lead.follow_up_at is None


def test_reveal_is_a_logged_post_for_the_store_and_hq(client, login, post, lead_shop, leads, app):
    lead = leads["mine"]
    login(lead_shop["manager"])
    assert client.get(f"/leads/{lead.id}/reveal").status_code == 405
    assert client.post(f"/leads/{lead.id}/reveal").status_code == 400  # no CSRF token
    response = post(f"/leads/{lead.id}/reveal")
    assert response.status_code == 200 and PHONE in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]
    assert PHONE not in client.get(f"/leads/{lead.id}").get_data(as_text=True)  # once, not for good
    assert post(f"/leads/{leads['theirs'].id}/reveal").status_code == 404
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal_phone")).all()
    assert [(e.actor_id, e.entity_id) for e in entries] == [(lead_shop["manager"].id, lead.id)]
    with app.app_context():
        other = app.test_client()
        login(lead_shop["hq"], other)
        assert "13912349876" in post(f"/leads/{leads['theirs'].id}/reveal", c=other).get_data(as_text=True)


def test_invite_card_draws_the_qr_of_the_invite_link(client, login, lead_shop, leads):
    login(lead_shop["manager"])
    html = client.get(f"/leads/{leads['mine'].id}/invite").get_data(as_text=True)
    for text in ("西湖一群", "<svg", "https://work.weixin.qq.com/gm/xihu1", "杭州西湖店", lead_shop["own"].address):
        assert text in html
    assert client.get(f"/leads/{leads['theirs'].id}/invite").status_code == 404


def test_invite_card_uses_the_uploaded_qr_image(client, login, lead_shop, make_lead, make_community):
    group = make_community(lead_shop["own"], name="有码群", qr_image=b"\x89PNG...", qr_mime="image/png")
    lead = make_lead(lead_shop["own"], community_id=group.id)
    login(lead_shop["manager"])
    html = client.get(f"/leads/{lead.id}/invite").get_data(as_text=True)
    assert f"/communities/{group.id}/qr" in html and "<svg" not in html


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_export_is_scoped_masked_and_logged(client, login, post, lead_shop, leads, app):
    login(lead_shop["manager"])
    response = post("/leads/export", {})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _csv(response)
    assert len(rows) == 2 and "王小明" in rows[1] and "138****5678" in rows[1]
    assert post("/leads/export", {"include_phones": "y"}).status_code == 403
    assert post("/leads/export", {"store": lead_shop["other"].id}).status_code == 404
    assert client.post("/leads/export").status_code == 400  # no CSRF token
    with app.app_context():
        other = app.test_client()
        login(lead_shop["hq"], other)
        rows = _csv(post("/leads/export", {"include_phones": "y", "city": lead_shop["other"].city_code}, c=other))
        assert len(rows) == 2 and "13912349876" in rows[1]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.changes["rows"], e.changes["phones"]) for e in entries] == [(1, False), (1, True)]


def test_hq_pages_are_hq_only(client, login, lead_shop, leads):
    login(lead_shop["manager"])
    for url in ("/leads/unrouted", "/leads/funnel"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/leads/{leads['unrouted'].id}").status_code == 404


def test_unrouted_queue_and_funnel_for_hq(client, login, lead_shop, leads, make_lead):
    make_lead(lead_shop["own"], phone=None, status=LeadStatus.CONVERTED, received_at=T0 + timedelta(hours=1),
              first_contact_at=T0 + timedelta(hours=1, minutes=15))
    login(lead_shop["hq"])
    html = client.get("/leads/unrouted").get_data(as_text=True)
    assert "无处可去" in html and "no city in the address" in html and "王小明" not in html
    html = client.get("/leads/funnel", query_string={"from": "2024-05-01", "to": "2024-05-31",
                                                     "group": "store"}).get_data(as_text=True)
    for text in ("HZ-001 杭州西湖店", "50.0 %", "15 min", "<svg", "seg-converted"):
        assert text in html
    for group, label in (("city", "杭州市"), ("source", "No source")):
        html = client.get("/leads/funnel", query_string={"from": "2024-05-01", "to": "2024-05-31", "group": group})
        assert label in html.get_data(as_text=True)
    html = client.get(f"/leads/{leads['unrouted'].id}").get_data(as_text=True)
    assert "no city in the address" in html and "Give to another store" in html
    html = client.get("/leads/funnel", query_string={"from": "2030-01-01", "to": "bad"}).get_data(as_text=True)
    assert "No leads were received in these days." in html


def test_every_lead_route_answers_404_for_another_stores_lead(client, login, post, lead_shop, leads):
    login(lead_shop["manager"])
    theirs = leads["theirs"].id
    before = (count(Lead), count(LeadNote), count(AuditEntry))
    for url in (f"/leads/{theirs}", f"/leads/{theirs}/invite"):
        assert client.get(url).status_code == 404, url
    for url, data in ((f"/leads/{theirs}/status", {"status": "contacted"}), (f"/leads/{theirs}/notes", {"body": "x"}),
                      (f"/leads/{theirs}/follow-up", {"follow_up_at": "2024-05-08T15:30"}),
                      (f"/leads/{theirs}/reveal", {})):
        assert post(url, data).status_code == 404, url
    assert post(f"/leads/{theirs}/reassign", {"store_id": lead_shop["own"].id}).status_code == 403
    assert client.get("/leads/new", query_string={"store_id": lead_shop["other"].id}).status_code == 404
    assert post("/leads/new", {"store_id": lead_shop["other"].id, "name": "x", "phone": PHONE}).status_code == 404
    db.session.expire_all()
    assert (count(Lead), count(LeadNote), count(AuditEntry)) == before
    assert leads["theirs"].status == LeadStatus.NEW


def test_manual_entry_form_checks_the_phone_and_the_store(client, login, post, lead_shop):
    login(lead_shop["manager"])
    html = client.get(url_for("leads.new")).get_data(as_text=True)
    assert "HZ-001" in html and "SH-001" not in html and "Let routing decide" not in html
    response = post("/leads/new", {"store_id": lead_shop["own"].id, "name": "路人", "phone": "12345"})
    assert response.status_code == 422 and "mainland mobile number" in response.get_data(as_text=True)
    assert 'value="路人"' in response.get_data(as_text=True)
    response = post("/leads/new", {"store_id": "", "name": "路人", "phone": PHONE})
    assert response.status_code == 422 and "Choose your store." in response.get_data(as_text=True)
    response = post("/leads/new", {"store_id": lead_shop["own"].id, "name": "路人", "phone": PHONE,
                                   "lon": "30.2", "lat": "120.1", "coord_system": "gcj02"})
    assert response.status_code == 422 and "swapped" in response.get_data(as_text=True)
    assert count(Lead) == 0


def test_a_manager_enters_a_lead_for_their_store_and_it_stays_there(client, login, post, lead_shop, make_community):
    group = make_community(lead_shop["own"], name="西湖一群")
    login(lead_shop["manager"])
    # A point right at the other store: typed in for the manager's own store, the lead stays with it.
    other = lead_shop["other"]
    response = post("/leads/new", {"store_id": lead_shop["own"].id, "name": "路人甲", "phone": "+86 138-1234-5678",
                                   "city": "上海", "district": "徐汇区", "lon": str(other.lon), "lat": str(other.lat),
                                   "coord_system": "wgs84", "note": "在门口发的传单"})
    assert response.status_code == 302, response.get_data(as_text=True)
    lead = db.session.scalar(select(Lead))
    assert response.headers["Location"].endswith(f"/leads/{lead.id}")
    assert (lead.store_id, lead.community_id, lead.routing_rule.value) == (lead_shop["own"].id, group.id, "source")
    assert lead.phone_masked == "138****5678" and lead.phone_encrypted and b"13812345678" not in lead.phone_encrypted
    assert lead.source.slug == "manual" and (lead.lon, lead.lat) == (other.lon, other.lat)
    assert [n.body for n in db.session.scalars(select(LeadNote))] == ["在门口发的传单"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "路人甲" in html and "在门口发的传单" in html


def test_hq_enters_a_lead_with_a_place_and_routing_decides(client, login, post, lead_shop):
    login(lead_shop["hq"])
    assert "Let routing decide" in client.get("/leads/new").get_data(as_text=True)
    response = post("/leads/new", {"store_id": "", "name": "电话客户", "phone": "0571-88886666",
                                   "city": "杭州", "district": "西湖区"})
    assert response.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert lead.store_id == lead_shop["own"].id and lead.routing_rule.value == "district"
    assert lead.phone_masked == "057****6666"
    response = post("/leads/new", {"store_id": "", "name": "无地址", "phone": "13600001111"})
    assert response.status_code == 302
    lead = db.session.scalar(select(Lead).where(Lead.name == "无地址"))
    assert lead.store_id is None and lead.routing_rule.value == "unrouted"


def test_hq_reassigns_an_unrouted_lead_by_hand(client, login, post, lead_shop, leads):
    login(lead_shop["hq"])
    lead = leads["unrouted"]
    html = client.get("/leads/unrouted").get_data(as_text=True)
    assert 'option value="HZ-001"' in html and f"/leads/{lead.id}/reassign" in html
    assert post(f"/leads/{lead.id}/reassign", {"store_id": ""}).status_code == 422
    assert post(f"/leads/{lead.id}/reassign", {"store_code": "NO-SUCH"}).status_code == 422
    response = post(f"/leads/{lead.id}/reassign", {"store_code": " HZ-001 ", "back": "unrouted"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/leads/unrouted")
    db.session.expire_all()
    assert lead.store_id == lead_shop["own"].id and lead.routing_rule.value == "manual"
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "reassign")) is not None
    response = post(f"/leads/{lead.id}/reassign", {"store_id": lead_shop["own"].id})
    assert response.status_code == 422 and "already with" in response.get_data(as_text=True)
    assert post(f"/leads/{lead.id}/reassign", {"store_id": 999999}).status_code == 404


def test_the_funnel_by_store_shows_a_page_of_rows_and_the_total_of_all(app, client, login, lead_shop, leads,
                                                                        make_lead, monkeypatch):
    """A chain of thousands of stores gets a page of rows, largest first; the total row counts every lead."""
    for _n in range(2):
        make_lead(lead_shop["own"], phone=None, received_at=T0 + timedelta(hours=2))
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    login(lead_shop["hq"])
    query = {"from": "2024-05-01", "to": "2024-05-31", "group": "store"}
    first = client.get("/leads/funnel", query_string=query).get_data(as_text=True)
    rows = re.findall(r'<th scope="row" data-label="">([^<]+)</th>', first)
    assert rows[0].startswith("HZ-001") and len(rows) == 2 and rows[-1] in ("All", "全部")   # one row + the total
    total = db.session.query(Lead).count()   # every lead of the fixtures was received in May 2024
    assert re.search(rf'<tr class="total">.*?<td class="num" data-label="[^"]+">{total}</td>', first, re.S)
    pages = int(re.search(r"Page 1 of (\d+)", first).group(1))
    last = client.get("/leads/funnel", query_string=query | {"page": pages + 5}).get_data(as_text=True)
    assert f"Page {pages} of {pages}" in last and "HZ-001" not in re.findall(
        r'<th scope="row" data-label="">([^<]+)</th>', last)[0]
