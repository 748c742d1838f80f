"""The WeCom page, the codes on store, group and lead pages, through a web client."""
import pytest
from sqlalchemy import select
from wecom_app_server import AES_KEY, CALLBACK_TOKEN, CORP_ID, SECRET, Error

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.joins.codes import join_code_for
from matrix.joins.models import JoinWay, JoinWayStatus
from matrix.joins.states import make_state
from matrix.joins.sync import sync_round
from matrix.leads.models import Lead
from matrix.wecom.models import WecomConnection


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def hq(make_user, login):
    return login(make_user(Role.OPERATOR))


@pytest.fixture
def store_with_group(make_store, make_community, wecom):
    store = make_store(code="A-001", name="甲门店")
    wecom.add_chat("wrChatA0001")
    group = make_community(store, name="甲店1群", wecom_chat_id="wrChatA0001")
    return store, group


def connection_form(**fields):
    return {"corp_id": CORP_ID, "secret": SECRET, "callback_token": CALLBACK_TOKEN, "aes_key": AES_KEY,
            "auto_create_room": "y"} | fields


def test_hq_connects_wecom_and_the_secret_is_never_shown(client, hq, post):
    page = client.get("/joins/").get_data(as_text=True)
    assert "Connect WeCom" in page and "http://localhost/wecom/callback" in page
    response = post("/joins/connection", connection_form())
    assert response.status_code == 302
    page = client.get("/joins/").get_data(as_text=True)
    assert "****" + SECRET[-4:] in page and SECRET not in page and AES_KEY not in page and CALLBACK_TOKEN not in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "wecom_connection"))
    assert entry.action == "create" and SECRET not in str(entry.changes) and entry.changes["secret"] == "changed"
    row = db.session.scalar(select(WecomConnection))
    assert SECRET.encode() not in row.secret_encrypted


def test_an_empty_secret_keeps_the_stored_one(client, hq, post, connect_wecom):
    connect_wecom()
    assert post("/joins/connection", connection_form(secret="", aes_key="", callback_token="")).status_code == 302
    row = db.session.scalar(select(WecomConnection))
    assert row.secret_last4 == SECRET[-4:] and row.aes_key_encrypted


@pytest.mark.parametrize("fields, message", [
    ({"corp_id": "ww/../x"}, "The corp id is 8 to 32 letters and digits"),
    ({"secret": "short"}, "The app secret is 16 to 64"),
    ({"aes_key": "tooshort"}, "exactly 43 letters and digits"),
])
def test_bad_settings_are_refused_with_a_reason(client, hq, post, fields, message):
    response = post("/joins/connection", connection_form(**fields))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(WecomConnection)) is None


def test_generated_callback_keys_are_shown_once(client, hq, post):
    response = post("/joins/connection", connection_form(callback_token="", aes_key="", generate_callback_keys="y"))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    row = db.session.scalar(select(WecomConnection))
    from matrix.leads.phones import decrypt_text

    token, key = decrypt_text(row.callback_token_encrypted), decrypt_text(row.aes_key_encrypted)
    page = response.get_data(as_text=True)
    assert token in page and key in page and len(key) == 43
    later = client.get("/joins/").get_data(as_text=True)
    assert token not in later and key not in later


def test_the_connection_test_says_what_wecom_answered(client, hq, post, connect_wecom, wecom):
    connect_wecom()
    page = post("/joins/connection/test", {}, follow_redirects=True).get_data(as_text=True)
    assert "the corp id and the app secret work" in page
    wecom.secret = "rotated-in-wecom-0123456789"
    page = post("/joins/connection/test", {}, follow_redirects=True).get_data(as_text=True)
    assert "errcode 40001" in page and "check the corp id, the app secret" in page
    assert "40001" in db.session.scalar(select(WecomConnection)).config_error


def test_disconnecting_falls_back_to_the_uploaded_qr(client, hq, post, connect_wecom, store_with_group):
    store, group = store_with_group
    connect_wecom()
    sync_round(limit=50)
    assert join_code_for(store.id, "poster").kind == "wecom"
    assert post("/joins/connection/disconnect", {}).status_code == 302
    code = join_code_for(store.id, "poster")
    assert code.kind == "group" and code.community_id == group.id


def test_the_page_lists_codes_with_their_errors_and_offers_a_retry(client, hq, post, connect_wecom, wecom,
                                                                   store_with_group):
    store, _group = store_with_group
    connect_wecom()
    wecom.answer("add_join_way", Error(40058, "invalid chat_id_list"))
    sync_round(limit=50)
    page = client.get("/joins/?status=error").get_data(as_text=True)
    assert "A-001" in page and "errcode 40058: invalid chat_id_list" in page and "Refused by WeCom" in page
    poster = db.session.scalar(select(JoinWay).where(JoinWay.state == make_state(store.id, "poster")))
    assert post(f"/joins/{poster.id}/retry", {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(JoinWay, poster.id).stale
    wecom.answer("add_join_way")
    sync_round(limit=50)
    assert db.session.get(JoinWay, poster.id).status == JoinWayStatus.READY


def test_store_and_group_pages_show_the_codes(client, make_user, login, connect_wecom, store_with_group):
    store, group = store_with_group
    connect_wecom()
    sync_round(limit=50)
    login(make_user(Role.STORE_MANAGER, stores=[store]))
    page = client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "WeCom join codes" in page and "Window poster" in page and "Ready" in page and "wework.qpic.cn" in page
    page = client.get(f"/communities/{group.id}").get_data(as_text=True)
    assert "wrChatA0001" in page and "1 members at WeCom" in page


def test_without_wecom_the_store_page_has_no_codes_section(client, make_user, login, store_with_group):
    store, _group = store_with_group
    login(make_user(Role.OPERATOR))
    assert "WeCom join codes</h2>" not in client.get(f"/stores/{store.id}").get_data(as_text=True)


def test_the_group_form_takes_a_unique_wecom_chat_id(client, hq, post, store_with_group):
    store, group = store_with_group
    data = {"store_id": store.id, "name": "甲店2群", "kind": "wecom", "capacity": "200", "members": "0",
            "active": "y", "wecom_chat_id": "wrChatA0001"}
    response = post("/communities/new", data)
    assert response.status_code == 422 and "Another group already has this WeCom chat id" in response.get_data(as_text=True)
    response = post("/communities/new", data | {"wecom_chat_id": "bad id!"})
    assert response.status_code == 422 and "A WeCom chat id is 8 to 64" in response.get_data(as_text=True)
    assert post("/communities/new", data | {"wecom_chat_id": "wrChatA0002"}).status_code == 302
    assert db.session.scalar(select(Community).where(Community.wecom_chat_id == "wrChatA0002")).name == "甲店2群"


def test_a_leads_invite_card_prints_the_wecom_code_and_offers_an_own_one(client, make_user, login, post,
                                                                         connect_wecom, store_with_group):
    store, group = store_with_group
    lead = Lead(name="客户", store_id=store.id, community_id=group.id)
    db.session.add(lead)
    db.session.commit()
    login(make_user(Role.STORE_MANAGER, stores=[store]))
    page = client.get(f"/leads/{lead.id}/invite").get_data(as_text=True)
    assert "wework.qpic.cn" not in page and "Make a join code" not in page  # no WeCom: the group's own code
    connect_wecom()
    sync_round(limit=50)
    page = client.get(f"/leads/{lead.id}/invite").get_data(as_text=True)
    store_code = db.session.scalar(select(JoinWay).where(JoinWay.state == make_state(store.id, "lead")))
    assert store_code.qr_code in page and "Make a join code of the lead’s own" in page
    response = post(f"/joins/leads/{lead.id}/code", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/leads/{lead.id}/invite")
    sync_round(limit=50)
    own = db.session.scalar(select(JoinWay).where(JoinWay.lead_id == lead.id))
    page = client.get(f"/leads/{lead.id}/invite").get_data(as_text=True)
    assert own.qr_code in page and "carries the lead’s own WeCom join code" in page


def test_managers_cannot_open_the_wecom_page(client, make_user, login, post):
    login(make_user(Role.STORE_MANAGER))
    assert client.get("/joins/").status_code == 403
    assert post("/joins/connection", connection_form()).status_code == 403
    assert db.session.scalar(select(WecomConnection)) is None
