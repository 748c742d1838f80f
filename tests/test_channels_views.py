"""The pages: which robot is which on the store, group and channel pages; confirm, answer, switch; HQ's lists."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import url_for
from robot_server import webhook
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.broadcasts.models import BroadcastSettings, StorePosts
from matrix.communities.models import StaffChannel
from matrix.extensions import db
from matrix.live import services as live_services
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind


@pytest.fixture
def shop(make_store, make_user, make_community, make_staff_channel):
    """A store as the upgrade leaves it (a group robot and an unconfirmed candidate), its manager and HQ."""
    store = make_store(code="HZ-001", name="西湖店")
    group = make_community(store, name="西湖1群", robot_webhook_url=webhook("KEYUPGRADE1234"))
    make_staff_channel(store, "KEYUPGRADE1234", confirmed=False, source_community_id=group.id)
    db.session.add(Notification(kind=NotificationKind.LEAD_ALERT, store_id=store.id, status=DeliveryStatus.HELD,
                                message={"msgtype": "markdown", "markdown": {"content": "x"}}))
    db.session.commit()
    return {"store": store, "group": group, "manager": make_user(Role.STORE_MANAGER, stores=[store], locale="en"),
            "hq": make_user(Role.OPERATOR, locale="en")}


def test_the_store_page_says_which_robot_is_which(client, login, shop):
    login(shop["manager"])
    body = client.get(url_for("stores.detail", store_id=shop["store"].id)).get_data(as_text=True)
    assert "Staff channel (lead alerts)" in body and "Customer group robot (trailers, live posts)" in body
    assert "KEYUPGRADE1234" not in body and "key=****1234" in body
    assert "Unconfirmed: no lead alert goes to it" in body and "1 lead alerts wait" in body


def test_the_group_page_asks_which_group_its_robot_is_in(client, login, shop):
    login(shop["manager"])
    body = client.get(url_for("communities.detail", community_id=shop["group"].id)).get_data(as_text=True)
    assert "Which group is this robot in?" in body and 'value="customers"' in body and 'value="staff"' in body
    assert "Never lead alerts" in body


def test_a_manager_confirms_the_candidate_and_the_held_alert_is_released(client, login, post, shop):
    login(shop["manager"])
    page = client.get(url_for("channels.store", store_id=shop["store"].id)).get_data(as_text=True)
    assert "The staff group: use it for lead alerts" in page and "A customer group: never for lead alerts" in page
    assert client.post(url_for("channels.confirm", store_id=shop["store"].id)).status_code == 400  # no CSRF token
    response = post(url_for("channels.confirm", store_id=shop["store"].id))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(StaffChannel)).is_confirmed
    assert db.session.scalar(select(Notification.status)) == DeliveryStatus.PENDING
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "staff_channel"))
    assert entry.actor_id == shop["manager"].id
    page = client.get(url_for("channels.store", store_id=shop["store"].id)).get_data(as_text=True)
    assert "Unconfirm: it may sit among customers" in page


def test_entering_a_staff_robot_needs_the_tick(client, login, post, shop):
    login(shop["hq"])
    url = url_for("channels.set_robot", store_id=shop["store"].id)
    response = post(url, {"robot_webhook_url": webhook("KEYNEWSTAFF99")})
    assert response.status_code == 422 and "staff group" in response.get_data(as_text=True)
    assert "KEYNEWSTAFF99" not in response.get_data(as_text=True)  # the secret is not written back
    assert post(url, {"robot_webhook_url": webhook("KEYNEWSTAFF99"), "in_staff_group": "y"}).status_code == 302
    db.session.expire_all()
    channel = db.session.scalar(select(StaffChannel))
    assert channel.robot_webhook_url == webhook("KEYNEWSTAFF99") and channel.confirmed_by_id == shop["hq"].id


def test_answering_customers_on_the_group_page(client, login, post, shop):
    login(shop["manager"])
    response = post(url_for("channels.answer", community_id=shop["group"].id), {"audience": "customers"})
    assert response.status_code == 302
    db.session.expire_all()
    assert shop["group"].robot_confirmed and db.session.scalar(select(StaffChannel)) is None
    body = client.get(url_for("communities.detail", community_id=shop["group"].id)).get_data(as_text=True)
    assert "Customer group robot: confirmed" in body
    assert post(url_for("channels.answer", community_id=shop["group"].id), {"audience": "nobody"}).status_code == 302


def test_a_manager_switches_community_posts_off(client, login, post, shop):
    login(shop["manager"])
    assert post(url_for("broadcasts.switch", store_id=shop["store"].id), {"posts": "off"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(StorePosts, shop["store"].id).community_posts is False
    body = client.get(url_for("channels.store", store_id=shop["store"].id)).get_data(as_text=True)
    assert "Switch community posts on" in body
    assert db.session.scalar(select(AuditEntry.entity).where(AuditEntry.entity == "store_posts")) == "store_posts"


def test_hq_lists_the_stores_still_to_confirm(client, login, shop, make_store):
    make_store(code="SH-009", name="徐汇店")
    login(shop["hq"])
    body = client.get(url_for("channels.index")).get_data(as_text=True)
    assert 'id="unconfirmed-count">2<' in body and "西湖店" in body and "徐汇店" in body
    assert "key=****1234" in body and "KEYUPGRADE1234" not in body
    deliveries = client.get(url_for("notifications.index")).get_data(as_text=True)
    assert 'id="to-confirm"' in deliveries and 'href="/channels/"' in deliveries


def test_hq_pages_are_closed_to_managers(client, login, post, shop):
    login(shop["manager"])
    assert client.get(url_for("channels.index")).status_code == 403
    assert client.get(url_for("broadcasts.settings")).status_code == 403
    assert post(url_for("broadcasts.settings"), {"reminder_hours": "1", "digest_at": "09:00"}).status_code == 403


def test_hq_changes_the_reminder_and_digest_settings(client, login, post, shop):
    login(shop["hq"])
    assert "08:30" in client.get(url_for("broadcasts.settings")).get_data(as_text=True)
    response = post(url_for("broadcasts.settings"), {"reminder_hours": "abc", "digest_at": "9"})
    assert response.status_code == 422
    assert post(url_for("broadcasts.settings"), {"reminder_hours": "2", "digest_on": "y",
                                                 "digest_at": "09:15"}).status_code == 302
    row = db.session.scalar(select(BroadcastSettings))
    assert (row.reminder_hours, row.digest_on, row.digest_at) == (2, True, "09:15")


def test_the_session_page_shows_its_community_posts(client, login, shop, make_account, make_customer_group):
    make_customer_group(shop["store"], "KEYCUSTPAGE", name="西湖2群")
    account = make_account(shop["store"])
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=5)).date()
    cleaned = live_services.clean_session({"account_id": account.id, "day": day.isoformat(), "start": "19:00",
                                           "end": "21:00", "title": "周末场", "anchor": "李娜",
                                           "live_url": "https://live.douyin.com/123"}, actor=shop["hq"])
    session, _report = live_services.schedule_session(cleaned, actor=shop["hq"])
    login(shop["manager"])
    body = client.get(url_for("live.detail", session_id=session.id)).get_data(as_text=True)
    section = body.split('id="community-posts"')[1]
    assert "西湖2群" in section and "We are live now" in section and "Trailer post" in section
    assert "https://live.douyin.com/123" in body
