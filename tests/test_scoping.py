"""Walk every registered route as the manager of store A against store B's objects.

A route added later without scoping fails here: every URL that names one of B's
objects must answer 403 or 404, no page may show B's data, and nothing may change.
"""
from datetime import date, datetime, timezone

import pytest
from flask import url_for
from sqlalchemy import select

from matrix.accounts.models import AccountScope
from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.communities.models import StaffChannel
from matrix.content.models import Campaign, ContentItem, ContentKind, ContentTemplate
from matrix.extensions import db
from matrix.joins.models import JoinWay, JoinWayStatus
from matrix.joins.states import make_state
from matrix.leads.models import Lead, LeadSource, LeadStatus, RoutingRule, SourceKind
from matrix.leads.phones import encrypt_text, protect_phone
from matrix.live.models import LiveSession
from matrix.materials.models import Material
from matrix.models import Base
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.storefront.models import StorefrontSettings
from matrix.wecom.models import WecomConnection

# Routes that hold no store data, or change only the signed-in user's own session.
OWN_SESSION_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.language", "users.me"}
# rejected_deliveries: the walk POSTs forged bodies to the public webhook, which logs each refusal.
SKIP_TABLES = {"audit_entries", "login_attempts", "regions", "geocode_cache", "rejected_deliveries"}
# Public webhooks (the signature is the check): a forged delivery answers 4xx, not necessarily 403/404.
SIGNED_ENDPOINTS = {"hooks.receive", "wecom_callback.verify", "wecom_callback.receive"}
# Public pages customers open without signing in: they answer anyone, for store A (url_arguments' `code`), and must
# show nothing of store B. A's page, its lead form (the walk's forged POST has no form token: refused), A's thanks
# page, A's counted join link, A's current group's QR image (none: 404), and the chain's privacy notice.
PUBLIC_ENDPOINTS = {"storefront.page", "storefront.leave", "storefront.thanks", "storefront.join",
                    "storefront.group_qr", "storefront.privacy"}


def database_snapshot() -> dict:
    """Every row of every table that holds chain data."""
    snap = {}
    for table in Base.metadata.sorted_tables:
        if table.name not in SKIP_TABLES:
            rows = db.session.execute(select(table)).all()
            snap[table.name] = sorted(repr(tuple(r)) for r in rows)
    return snap


@pytest.fixture
def two_stores(make_store, make_user, make_account, make_community, platforms):
    brand = Brand(name="测试品牌")
    db.session.add(brand)
    db.session.commit()
    store_a = make_store(code="A-001", name="甲门店")
    store_b = make_store(code="B-002", name="乙门店隐私", phone="0571-88889999")
    make_account(store=store_a, handle="a_handle")
    account_b = make_account(store=store_b, handle="b_secret_handle", display_name="乙号")
    brand_account = make_account(scope=AccountScope.BRAND, brand_id=brand.id, handle="brand_main", platform="kuaishou")
    make_community(store_a, name="甲群")
    community_b = make_community(store_b, name="乙群隐私",
                                 robot_webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEYB1234")
    manager_a = make_user(Role.STORE_MANAGER, stores=[store_a], username="manager_a")
    manager_b = make_user(Role.STORE_MANAGER, stores=[store_b], username="manager_b")
    source_b = LeadSource(name="乙来源隐私", slug="b-form", kind=SourceKind.GENERIC, store_id=store_b.id,
                          secret_encrypted=encrypt_text("b-source-secret"), field_map={})
    db.session.add(source_b)
    db.session.commit()
    lead_b = _lead_of(store_b, community_b, source_b)
    # B's staff channel, still an unconfirmed candidate: a walk that confirmed it would change data.
    staff_b = StaffChannel(store_id=store_b.id, robot_webhook_url=STAFF_B)
    db.session.add(staff_b)
    db.session.flush()
    notification_b = Notification(kind=NotificationKind.LEAD_ALERT, lead_id=lead_b.id, staff_channel_id=staff_b.id,
                                  store_id=store_b.id,
                                  message={"msgtype": "markdown", "markdown": {"content": "乙线索隐私"}},
                                  status=DeliveryStatus.FAILED, attempts=3, last_error="errcode 93000")
    post_b = Notification(kind=NotificationKind.TRAILER_POST, community_id=community_b.id, store_id=store_b.id,
                          message={"msgtype": "text", "text": {"content": "乙内容隐私"}})
    db.session.add_all([notification_b, post_b])
    db.session.commit()
    item_b = ContentItem(store_id=store_b.id, account_id=account_b.id, day=date(2026, 11, 23), slot="12:00",
                         kind=ContentKind.SHORT_VIDEO, topic="乙内容隐私", caption="乙内容隐私")
    db.session.add(item_b)
    # WeCom connected; store B's channel code and its lead's own code carry markers in their QR addresses.
    db.session.add(WecomConnection(corp_id="ww0123456789abcdef", secret_encrypted=encrypt_text("s" * 32)))
    db.session.add_all([JoinWay(store_id=store_b.id, channel=channel, lead_id=lead, config_id=f"cfg{channel}",
                                state=make_state(store_b.id, channel, lead), chat_ids=["wrChatB0001"],
                                qr_code=f"https://wework.qpic.cn/wwpic/BQRSECRET{channel}/0",
                                status=JoinWayStatus.READY, stale=False)
                        for channel, lead in (("poster", None), ("lead", lead_b.id))])
    db.session.add(StorefrontSettings(privacy_text="隐私声明", consent_text="同意"))  # store pages take leads
    db.session.commit()
    return {"store_a": store_a, "store_b": store_b, "account_b": account_b, "brand_account": brand_account,
            "community_b": community_b, "manager_a": manager_a, "manager_b": manager_b, "brand": brand,
            "platform": platforms["douyin"], "lead_b": lead_b, "notification_b": notification_b,
            "source_b": source_b, "item_b": item_b}


def _lead_of(store, community, source) -> Lead:
    """A lead routed to `store`, with a phone number, as intake would store it."""
    phone = protect_phone(LEAD_B_PHONE)
    lead = Lead(source_id=source.id, external_id="b-clue-1", name="乙线索隐私", phone_encrypted=phone.encrypted,
                phone_hash=phone.hash, phone_masked=phone.masked, city_text="杭州 西湖区", address_text="乙线索地址隐私",
                store_id=store.id, community_id=community.id,
                city_code=store.city_code, district_code=store.district_code, routing_rule=RoutingRule.COORDINATES,
                routing_reason="nearest", distance_m=420.0, status=LeadStatus.CONTACTED)
    db.session.add(lead)
    db.session.commit()
    return lead


LEAD_B_PHONE = "13957719876"
STAFF_B = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETSTAFFB5678"


def live_session_of(b) -> int:
    """A live session hosted by store B's account; its title carries a marker."""
    session = LiveSession(account_id=b["account_b"].id, store_id=b["store_b"].id, title="乙内容隐私直播",
                          anchor="乙主播", anchor_key="乙主播", starts_at=datetime(2026, 11, 28, 11, tzinfo=timezone.utc),
                          ends_at=datetime(2026, 11, 28, 13, tzinfo=timezone.utc))
    db.session.add(session)
    db.session.commit()
    return session.id


def material_of(b) -> int:
    """A reference file of the template store B's item was made from (A's manager must not get it)."""
    campaign = Campaign(name="乙活动", starts_on=date(2026, 11, 23), ends_on=date(2026, 11, 29))
    db.session.add(campaign)
    db.session.flush()
    template = ContentTemplate(campaign_id=campaign.id, kind=ContentKind.SHORT_VIDEO, topic="乙模板")
    db.session.add(template)
    db.session.flush()
    b["item_b"].template_id = template.id
    material = Material(template_id=template.id, file_name="乙素材.png", mime="image/png", kind="image", size=4,
                        sha256="0" * 64, data=b"\x89PNG")
    db.session.add(material)
    db.session.commit()
    return material.id


def url_arguments(objects) -> dict:
    b = objects
    return {"session_id": live_session_of(b), "material_id": material_of(b), "city_code": "110100",  # live: B's session; a city without A's stores
            "store_id": b["store_b"].id, "account_id": b["account_b"].id, "community_id": b["community_b"].id,
            "user_id": b["manager_b"].id, "brand_id": b["brand"].id, "platform_id": b["platform"].id,
            "entry_id": 1, "token": "0" * 32, "kind": "stores", "lead_id": b["lead_b"].id,
            "notification_id": b["notification_b"].id, "source_id": b["source_b"].id,
            # lead sources are HQ-only; webhooks check signatures
            "slug": b["source_b"].slug, "week": "2026-W48", "item_id": b["item_b"].id,
            "campaign_id": 1, "template_id": 1,  # campaigns are HQ-only: 403 before any lookup
            "rule_id": 1,  # trailer rules are HQ-only too
            "join_way_id": 1,  # the WeCom page is HQ-only
            "code": b["store_a"].code,  # public store pages: the walk opens A's and looks for B's data
            "job_id": 1}  # print jobs are HQ-only


# B's code is sent as a search term and may be echoed back, so it is not a marker.
B_MARKERS = ("乙门店隐私", "b_secret_handle", "乙群隐私", "SECRETKEYB1234", "SECRETSTAFFB", "88889999",
             "乙线索隐私", "乙线索地址隐私", LEAD_B_PHONE, "139****9876", "乙来源隐私", "b-source-secret", "乙内容隐私",
             "BQRSECRET")


def test_store_manager_cannot_reach_another_stores_data(app, client, login, post, two_stores):
    login(two_stores["manager_a"])
    arguments = url_arguments(two_stores)
    before = database_snapshot()
    forged = {"store_id": two_stores["store_b"].id, "store": "B-002", "store_code": "B-002", "name": "forged",
              "handle": "forged_handle", "platform": "douyin", "code": "B-002", "city": "杭州",
              "members": "1", "capacity": "200", "scope": "store", "status": "open"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OWN_SESSION_ENDPOINTS:
            continue
        unknown = set(rule.arguments) - set(arguments)
        assert not unknown, f"{rule.rule}: add {unknown} to url_arguments() so the scoping walk covers it"
        url = url_for(rule.endpoint, **{k: arguments[k] for k in rule.arguments})
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = client.get(url, query_string={"store_id": two_stores["store_b"].id, "q": "B-002",
                                                         "store": "B-002"})
            else:
                response = post(url, data=forged)
            checked += 1
            where = f"{method} {rule.rule}"
            if rule.endpoint in SIGNED_ENDPOINTS:
                assert 400 <= response.status_code < 500, f"{where} answered {response.status_code}"
            elif rule.endpoint in PUBLIC_ENDPOINTS:
                assert response.status_code in (200, 302, 400, 404), f"{where} answered {response.status_code}"
            elif rule.arguments and rule.endpoint not in ("accounts.platform_edit",):
                assert response.status_code in (403, 404), f"{where} answered {response.status_code}"
            assert response.status_code != 500, where
            body = response.get_data(as_text=True)
            for marker in B_MARKERS:
                assert marker not in body, f"{where} shows store B's data ({marker})"
    assert checked > 10
    db.session.expire_all()
    assert database_snapshot() == before, "a store manager's request changed data"


def test_store_manager_sees_own_store(app, client, login, two_stores):
    login(two_stores["manager_a"])
    response = client.get(url_for("stores.detail", store_id=two_stores["store_a"].id))
    assert response.status_code == 200
    assert "甲门店" in response.get_data(as_text=True)


@pytest.mark.parametrize("signed_in", [None, "manager_b"])
def test_store_as_public_page_shows_nothing_of_store_b(app, client, login, two_stores, signed_in):
    """Anyone may open store A's page, even B's own manager: it shows A, and nothing of B, its lead or its codes."""
    if signed_in:
        login(two_stores[signed_in])
    live_session_of(two_stores)
    for url in ("/s/A-001", "/s/A-001?c=poster", "/s/A-001/thanks?c=lead", "/privacy"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        for marker in B_MARKERS:
            assert marker not in body, f"{url} shows store B's data ({marker})"
    assert "甲门店" in client.get("/s/A-001").get_data(as_text=True)
    assert "BQRSECRET" not in client.get("/s/A-001/join?c=poster").headers["Location"]
