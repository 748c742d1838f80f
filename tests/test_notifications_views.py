"""HQ's deliveries page: list and filter by status and audience, retry by hand, clear a robot flag; closed to managers."""
import pytest
from flask import url_for
from flask_babel import force_locale
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.leads.models import Lead
from matrix.models import utcnow
from matrix.notifications import services
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.notifications.targets import HELD_REASON

KEY = "SECRETROBOTKEY9876"
GROUP_KEY = "SECRETGROUPKEY4321"


def webhook(key: str) -> str:
    return f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"


@pytest.fixture
def deliveries(make_store, make_community, make_staff_channel):
    """Store HZ-001's staff channel (flagged) and customer group (flagged), with a sent, a failed and a held staff
    message, a failed customer post, and an old unnotified lead alert of SH-002 (no staff channel)."""
    store = make_store(code="HZ-001", name="西湖店")
    channel = make_staff_channel(store, KEY, robot_error="errcode 93000: gone")
    group = make_community(store, name="西湖1群", robot_webhook_url=webhook(GROUP_KEY), robot_confirmed_at=utcnow(),
                           robot_error="errcode 93000: group gone")
    other = make_store(code="SH-002", name="徐汇店")
    message = {"msgtype": "markdown", "markdown": {"content": "x"}}
    lead = Lead(store_id=store.id, community_id=group.id, phone_masked="138****5678")
    db.session.add(lead)
    db.session.flush()
    staff = {"kind": NotificationKind.LEAD_ALERT, "store_id": store.id, "staff_channel_id": channel.id}
    rows = {
        "sent": Notification(**staff, message=message, status=DeliveryStatus.SENT, attempts=1),
        "failed": Notification(**staff, lead_id=lead.id, message=message, attempts=1, status=DeliveryStatus.FAILED,
                               last_error="errcode 93000: gone"),
        "post": Notification(kind=NotificationKind.TRAILER_POST, store_id=store.id, community_id=group.id,
                             message={"msgtype": "text", "text": {"content": "预告"}}, attempts=1,
                             status=DeliveryStatus.FAILED, last_error="errcode 93000: group gone"),
        "unnotified": Notification(kind=NotificationKind.LEAD_ALERT, store_id=other.id, message=message,
                                   status=DeliveryStatus.FAILED, last_error=services.GROUPS_FULL),
        "held": Notification(kind=NotificationKind.LEAD_ALERT, store_id=other.id, message=message,
                             status=DeliveryStatus.HELD, last_error=HELD_REASON),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return {"group": group, "store": store, "channel": channel, **rows}


def test_hq_sees_deliveries_with_errors_audiences_and_masked_robots(client, login, make_user, deliveries):
    login(make_user(Role.OPERATOR))
    with force_locale("en"):
        body = client.get(url_for("notifications.index")).get_data(as_text=True)
    assert KEY not in body and "key=****9876" in body and GROUP_KEY not in body and "key=****4321" in body
    assert "errcode 93000: gone" in body and "西湖1群" in body and "徐汇店" in body
    assert f'href="/leads/{deliveries["failed"].lead_id}"' in body
    assert str(services.GROUPS_FULL) not in body and HELD_REASON not in body  # shown as sentences
    assert "Staff channel" in body and "Customer group" in body and "Trailer post" in body
    assert 'id="to-confirm"' in body and 'id="flagged-staff"' in body  # SH-002 has no staff channel
    assert body.count('class="btn small">') >= 3  # three retry buttons


def table(body: str) -> str:
    """The deliveries table of a page ("" when no delivery matched)."""
    return body.split('id="deliveries"')[1].split("</table>")[0] if 'id="deliveries"' in body else ""


@pytest.mark.parametrize("status, rows", [("failed", 3), ("unnotified", 1), ("sent", 1), ("pending", 0), ("held", 1),
                                          ("", 5)])
def test_filter_by_status(client, login, make_user, deliveries, status, rows):
    login(make_user(Role.OPERATOR))
    response = client.get(url_for("notifications.index", status=status))
    assert response.status_code == 200
    assert table(response.get_data(as_text=True)).count("<tr>") == rows + (1 if rows else 0)  # + the header
    if status == "unnotified":
        assert "徐汇店" in table(response.get_data(as_text=True))


@pytest.mark.parametrize("audience, rows", [("staff", 4), ("customers", 1)])
def test_filter_by_audience(client, login, make_user, deliveries, audience, rows):
    login(make_user(Role.OPERATOR))
    body = client.get(url_for("notifications.index", audience=audience)).get_data(as_text=True)
    assert table(body).count("<tr>") == rows + 1


def test_filter_by_store_code(client, login, make_user, deliveries):
    login(make_user(Role.OPERATOR))
    body = client.get(url_for("notifications.index", store="SH-002")).get_data(as_text=True)
    assert "徐汇店" in table(body) and "HZ-001" not in table(body)


def test_retry_by_hand_is_audited(client, login, post, make_user, deliveries):
    login(make_user(Role.OPERATOR))
    failed_id = deliveries["failed"].id
    response = post(url_for("notifications.retry", notification_id=failed_id))
    assert response.status_code == 302
    row = db.session.get(Notification, failed_id)
    db.session.refresh(row)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "notification"))
    assert entry.action == "retry" and entry.entity_id == failed_id


def test_retry_without_a_staff_channel_holds_the_alert(client, login, post, make_user, deliveries):
    login(make_user(Role.OPERATOR))
    unnotified = deliveries["unnotified"].id
    assert post(url_for("notifications.retry", notification_id=unnotified)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, unnotified).status == DeliveryStatus.HELD


def test_retry_that_cannot_work_answers_422(client, login, post, make_user, deliveries):
    login(make_user(Role.OPERATOR))
    group = deliveries["group"]
    group.robot_confirmed_at = None  # nobody says any more that the robot sits among customers
    db.session.commit()
    assert post(url_for("notifications.retry", notification_id=deliveries["post"].id)).status_code == 422
    assert post(url_for("notifications.retry", notification_id=deliveries["sent"].id)).status_code == 422
    assert client.post(url_for("notifications.retry", notification_id=deliveries["failed"].id)).status_code == 400


def test_clear_the_flags_and_requeue(client, login, post, make_user, deliveries):
    login(make_user(Role.OPERATOR))
    group, store = deliveries["group"], deliveries["store"]
    assert post(url_for("notifications.clear_flag", community_id=group.id), {"requeue": "y"}).status_code == 302
    assert post(url_for("notifications.clear_staff_flag", store_id=store.id), {"requeue": "y"}).status_code == 302
    db.session.expire_all()
    assert group.robot_error is None and deliveries["channel"].robot_error is None
    assert db.session.get(Notification, deliveries["post"].id).status == DeliveryStatus.PENDING
    assert db.session.get(Notification, deliveries["failed"].id).status == DeliveryStatus.PENDING
    assert post(url_for("notifications.clear_flag", community_id=group.id)).status_code == 422
    assert post(url_for("notifications.clear_staff_flag", store_id=store.id)).status_code == 422


def test_store_managers_are_kept_out(client, login, post, make_user, deliveries):
    login(make_user(Role.STORE_MANAGER, stores=[deliveries["store"]]))
    assert client.get(url_for("notifications.index")).status_code == 403
    assert post(url_for("notifications.retry", notification_id=deliveries["failed"].id)).status_code == 403
    assert post(url_for("notifications.clear_flag", community_id=deliveries["group"].id)).status_code == 403
    assert post(url_for("notifications.clear_staff_flag", store_id=deliveries["store"].id)).status_code == 403
    db.session.expire_all()
    assert db.session.get(Notification, deliveries["failed"].id).status == DeliveryStatus.FAILED
    assert 'href="/notifications/"' not in client.get("/").get_data(as_text=True)


def test_hq_navigation_links_the_page(client, login, make_user, make_store):
    make_store()  # a chain without stores starts on the setup list instead
    login(make_user(Role.OPERATOR))
    assert 'href="/notifications/"' in client.get("/").get_data(as_text=True)
