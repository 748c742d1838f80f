"""The notifications outbox: what a lead enqueues for the staff channel, and how deliver_due sends, retries and gives up."""
from datetime import datetime, timedelta, timezone

import pytest
from robot_server import Busy, Error, Gone, HttpError, RateLimited, webhook
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.communities.models import StaffChannel
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.alerts import enqueue_for_lead
from matrix.leads.models import Lead, LeadSource, RoutingRule, SourceKind
from matrix.notifications import manual, services
from matrix.notifications.models import Audience, DeliveryStatus, Notification, NotificationKind
from matrix.notifications.services import deliver_due
from matrix.notifications.targets import HELD_REASON
from matrix.notifications.wecom import RobotClient

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
FULL_PHONE = "13812345678"


@pytest.fixture
def shop(make_store, make_community, make_staff_channel, make_user):
    """A store with a confirmed staff channel, one customer group and a manager with a mobile number."""
    store = make_store(code="HZ-001", name="西湖店")
    make_staff_channel(store, "KEYWESTLAKE1")
    community = make_community(store, name="西湖店1群")
    make_user(Role.STORE_MANAGER, stores=[store], mobile="139 0000 1111")
    return store, community


@pytest.fixture
def make_lead(app):
    source = LeadSource(name="抖音线索表单", slug="douyin-form", kind=SourceKind.GENERIC)
    db.session.add(source)
    db.session.commit()

    def build(store=None, community=None, *, now=T0, commit=True, **extra) -> Lead:
        values = dict(name="张三", phone_masked="138****5678", city_text="杭州市", address_text="西湖区文三路100号",
                      routing_rule=RoutingRule.COORDINATES, distance_m=1234.0, received_at=now, source_id=source.id)
        lead = Lead(store_id=store.id if store else None, community_id=community.id if community else None,
                    **{**values, **extra})
        db.session.add(lead)
        enqueue_for_lead(lead, now=now)
        if commit:
            db.session.commit()
        return lead
    return build


def client(timeout=0.5) -> RobotClient:
    from flask import current_app
    return RobotClient(base_url_override=current_app.config["WECOM_ROBOT_BASE_URL"], timeout=timeout)


def rows(lead=None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if lead is not None:
        query = query.where(Notification.lead_id == lead.id)
    return list(db.session.scalars(query))


# --- enqueue -----------------------------------------------------------------------------------------------

def test_a_routed_lead_enqueues_a_markdown_card_and_a_mention(app, shop, make_lead):
    store, community = shop
    app.config["BASE_URL"] = "https://matrix.example.com"
    try:
        lead = make_lead(store, community)
    finally:
        app.config["BASE_URL"] = None
    card, mention = rows(lead)
    channel = db.session.scalar(select(StaffChannel))
    assert (card.status, card.staff_channel_id, card.community_id, card.store_id, card.attempts) == (
        "pending", channel.id, None, store.id, 0)
    assert card.kind == NotificationKind.LEAD_ALERT and card.audience == Audience.STAFF
    content = card.message["markdown"]["content"]
    assert card.message["msgtype"] == "markdown"
    for expected in ("西湖店", "`138****5678`", "抖音线索表单", "杭州市", "西湖区文三路100号", "1.2",
                     "2025-03-01 10:00", f"https://matrix.example.com/leads/{lead.id}"):
        assert expected in content, expected
    assert FULL_PHONE not in str(card.message) and "张三" not in content
    assert mention.message["msgtype"] == "text"
    assert mention.message["text"]["mentioned_mobile_list"] == ["13900001111"]


def test_no_mention_without_manager_mobiles(make_store, make_staff_channel, make_lead):
    store = make_store()
    make_staff_channel(store, "KEYNOMOBILE")
    lead = make_lead(store, None)
    assert [n.message["msgtype"] for n in rows(lead)] == ["markdown"]


def test_outside_text_cannot_inject_links_or_mentions(shop, make_lead):
    store, community = shop
    lead = make_lead(store, community, address_text="[点我](http://evil.example) <@all> **粗体**\n# 标题")
    content = rows(lead)[0].message["markdown"]["content"]
    assert "](http://evil" not in content and "<@all>" not in content and "\n# " not in content
    assert "点我" in content


def test_an_unrouted_lead_enqueues_nothing(make_lead):
    make_lead(None, None, routing_rule=RoutingRule.UNROUTED)
    assert rows() == []


@pytest.mark.parametrize("case", ["no_channel", "candidate"])
def test_without_a_confirmed_staff_channel_the_alert_is_held_not_lost(make_store, make_community, make_staff_channel,
                                                                     make_lead, robot, case):
    store = make_store()
    community = make_community(store, robot_webhook_url=webhook("KEYGROUPROBOT"))  # a group robot: never for alerts
    if case == "candidate":
        make_staff_channel(store, "KEYCANDIDATE", confirmed=False)
    lead = make_lead(store, community)
    assert [(r.status, r.last_error) for r in rows(lead)] == [(DeliveryStatus.HELD, HELD_REASON)]
    assert deliver_due(client=client(), now=T0 + timedelta(days=1)).handled == 0
    assert robot.requests == 0


@pytest.mark.parametrize("case, warning", [("full", "are full"), ("no_group", "no group yet")])
def test_a_lead_that_cannot_join_a_group_still_reaches_the_staff_with_a_warning(make_store, make_community,
                                                                                make_staff_channel, make_lead,
                                                                                robot, case, warning):
    store = make_store()
    make_staff_channel(store, "KEYSTAFFWARN")
    if case == "full":
        make_community(store, members=200, capacity=200, robot_webhook_url=webhook("KEYFULL1"))
    make_lead(store, None)
    assert deliver_due(client=client(), now=T0).sent == 1
    [message] = robot.messages("KEYSTAFFWARN")
    content = message["markdown"]["content"]
    assert warning in content and "138****5678" in content
    assert robot.messages("KEYFULL1") == []


# --- delivery ----------------------------------------------------------------------------------------------

def test_delivered_once_and_marked_sent(shop, make_lead, robot):
    store, community = shop
    make_lead(store, community)
    counts = deliver_due(client=client(), now=T0)
    assert (counts.sent, counts.retried, counts.failed) == (2, 0, 0)
    assert [m["msgtype"] for m in robot.messages("KEYWESTLAKE1")] == ["markdown", "text"]
    assert all(n.status == DeliveryStatus.SENT and n.sent_at == T0 for n in rows())
    assert deliver_due(client=client(), now=T0 + timedelta(hours=1)).handled == 0
    assert len(robot.delivered) == 2


def test_not_due_yet_is_left_alone(shop, make_lead, robot):
    make_lead(*shop, now=T0)
    assert deliver_due(client=client(), now=T0 - timedelta(seconds=1)).handled == 0
    assert robot.requests == 0


@pytest.mark.parametrize("answer, min_wait", [(RateLimited(), 60), (Busy(), 30), (Error(45033, "concurrent"), 30),
                                              (HttpError(500), 30), (HttpError(502), 30)])
def test_transient_errors_are_retried_with_backoff(make_store, make_staff_channel, make_lead, robot, answer, min_wait):
    store = make_store()
    make_staff_channel(store, "KEYRETRY1")
    make_lead(store, None)
    robot.answer(answer, answer)
    counts = deliver_due(client=client(), now=T0)
    assert counts.retried == 1 and counts.failed == 0
    [row] = rows()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.locked_until is None
    assert row.next_attempt_at >= T0 + timedelta(seconds=min_wait)
    assert row.last_error
    second = row.next_attempt_at
    assert deliver_due(client=client(), now=second).retried == 1
    db.session.expire_all()
    assert rows()[0].next_attempt_at - second > second - T0  # the wait grows
    robot.answer()  # back to ok
    assert deliver_due(client=client(), now=rows()[0].next_attempt_at).sent == 1


@pytest.mark.parametrize("answer", [Gone(), Error(40008, "invalid message type"), Error(44004, "empty content"),
                                    Error(40001, "unknown"), HttpError(404)])
def test_permanent_errors_fail_at_once_and_flag_the_staff_channel(make_store, make_staff_channel, make_lead, robot,
                                                                  answer):
    store = make_store()
    channel = make_staff_channel(store, "KEYGONE123")
    make_lead(store, None)
    robot.answer(answer)
    counts = deliver_due(client=client(), now=T0)
    assert (counts.sent, counts.retried, counts.failed) == (0, 0, 1)
    [row] = rows()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    db.session.refresh(channel)
    assert channel.robot_error and channel.robot_error == row.last_error
    calls = robot.requests
    assert deliver_due(client=client(), now=T0 + timedelta(days=1)).handled == 0
    assert robot.requests == calls  # never retried


def test_a_robot_that_was_removed_answers_93000(make_store, make_staff_channel, make_lead, robot):
    store = make_store()
    make_staff_channel(store, "KEYREMOVED")
    robot.remove("KEYREMOVED")
    make_lead(store, None)
    assert deliver_due(client=client(), now=T0).failed == 1
    assert "93000" in rows()[0].last_error


def test_gives_up_after_the_last_attempt(app, make_store, make_staff_channel, make_lead, robot):
    store = make_store()
    make_staff_channel(store, "KEYALWAYSBUSY")
    make_lead(store, None)
    robot.answer(Busy())
    now = T0
    for _ in range(app.config["WECOM_MAX_ATTEMPTS"] - 1):
        assert deliver_due(client=client(), now=now).retried == 1
        db.session.expire_all()
        now = rows()[0].next_attempt_at
    assert deliver_due(client=client(), now=now).failed == 1
    row = rows()[0]
    assert row.status == DeliveryStatus.FAILED and row.last_error.startswith("gave up after 12 attempts")
    assert db.session.scalar(select(StaffChannel.robot_error)) is None  # not the robot's fault for good
    assert timedelta(hours=4) < now - T0 < timedelta(hours=7)


def test_a_refused_robot_url_is_never_called(make_store, make_staff_channel, make_lead, robot):
    store = make_store()
    channel = make_staff_channel(store, "INTERNAL")
    channel.robot_webhook_url = "http://10.0.0.5/cgi-bin/webhook/send?key=INTERNAL"
    db.session.commit()
    make_lead(store, None)
    assert deliver_due(client=client(), now=T0).failed == 1
    assert robot.requests == 0
    assert rows()[0].last_error == services.REFUSED_URL


def test_throttled_to_eighteen_a_minute_per_robot(make_store, make_staff_channel, make_lead, robot):
    store, other = make_store(), make_store()
    make_staff_channel(store, "KEYBUSYROBOT")
    make_staff_channel(other, "KEYOTHERROBOT")
    for _ in range(25):
        make_lead(store, None, commit=False)
    make_lead(other, None, commit=False)
    db.session.commit()
    counts = deliver_due(client=client(), now=T0, limit=100)
    # WeCom allows 20 a minute; 18 leaves room for the robot's clock and for calls that failed.
    assert (counts.sent, counts.throttled) == (19, 7)
    assert len(robot.messages("KEYBUSYROBOT")) == 18 and len(robot.messages("KEYOTHERROBOT")) == 1
    waiting = [n for n in rows() if n.status == DeliveryStatus.PENDING]
    assert len(waiting) == 7 and all(n.next_attempt_at >= T0 + timedelta(seconds=60) for n in waiting)
    assert all(n.attempts == 0 for n in waiting)  # a throttled row was not an attempt
    assert deliver_due(client=client(), now=T0 + timedelta(seconds=30)).handled == 0
    assert deliver_due(client=client(), now=T0 + timedelta(seconds=61)).sent == 7
    assert len(robot.messages("KEYBUSYROBOT")) == 25


def test_two_workers_interleaved_never_send_twice(app, shop, make_lead, robot):
    """Worker B runs while worker A is in the middle of sending: B finds nothing to take."""
    store, community = shop
    for _ in range(3):
        make_lead(store, community)
    real = client()
    seen_by_b = []

    class Interleaving:
        def send(self, url, message):
            if not seen_by_b:
                with app.app_context():  # another worker: its own session and transaction
                    seen_by_b.append(deliver_due(client=real, now=T0))
            return real.send(url, message)

    counts = deliver_due(client=Interleaving(), now=T0)
    assert counts.sent == 6 and seen_by_b[0].handled == 0
    assert len(robot.delivered) == 6


def test_a_crashed_workers_rows_come_back_after_the_lease(app, shop, make_lead, robot):
    store, community = shop
    make_lead(store, community)
    claimed = services._claim(T0, 50, services.DeliveryCounts())  # claimed, then the worker died
    assert len(claimed) == 2
    assert deliver_due(client=client(), now=T0 + timedelta(seconds=10)).handled == 0
    later = T0 + timedelta(seconds=app.config["WORKER_LEASE_S"] + 1)
    assert deliver_due(client=client(), now=later).sent == 2
    assert [n.attempts for n in rows()] == [2, 2]


def test_robot_down_for_a_while_then_back_delivers_every_lead_once(app, shop, make_lead, robot, monkeypatch):
    """The spec's test: nothing is lost and nothing is sent twice."""
    store, community = shop
    monkeypatch.setitem(app.config, "BASE_URL", "https://matrix.example.com")
    leads = [make_lead(store, community, now=T0 + timedelta(seconds=i)) for i in range(8)]
    robot.stop()
    now = T0 + timedelta(seconds=10)
    for _ in range(4):  # down for about 8 minutes of retries
        counts = deliver_due(client=client(), now=now)
        assert counts.sent == 0 and counts.failed == 0
        db.session.expire_all()
        now = min(n.next_attempt_at for n in rows())
    robot.start()
    for _ in range(20):
        deliver_due(client=client(), now=now)
        db.session.expire_all()
        pending = [n for n in rows() if n.status == DeliveryStatus.PENDING]
        if not pending:
            break
        now = max(now + timedelta(seconds=1), min(n.next_attempt_at for n in pending))
    assert all(n.status == DeliveryStatus.SENT for n in rows())
    cards = [m["markdown"]["content"] for m in robot.messages() if m["msgtype"] == "markdown"]
    assert len(cards) == len(leads) and len(robot.messages()) == 2 * len(leads)
    for lead in leads:
        assert sum(c.endswith(f"/leads/{lead.id})") for c in cards) == 1


def test_concurrent_workers_on_postgresql_send_each_message_once(app, make_store, make_lead, robot, monkeypatch):
    """Real threads against one PostgreSQL database (SQLite allows one writer: see services)."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    monkeypatch.setitem(app.config, "BASE_URL", "https://matrix.example.com")
    others = [make_store() for _ in range(4)]
    for i, other in enumerate(others):
        db.session.add(StaffChannel(store_id=other.id, robot_webhook_url=webhook(f"KEYTHREAD{i}"),
                                    confirmed_at=T0))
    db.session.commit()
    for other in others:
        for _ in range(6):
            make_lead(other, None, commit=False)
    db.session.commit()
    real = client(timeout=2)
    errors = []

    def work():
        try:
            with app.app_context():
                for _ in range(10):
                    deliver_due(client=real, now=T0, limit=5)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    db.session.expire_all()
    assert all(n.status == DeliveryStatus.SENT for n in rows())
    assert len(robot.delivered) == 24  # four stores without managers' mobiles: one card per lead
    cards = [m["markdown"]["content"] for _key, m in robot.delivered if m["msgtype"] == "markdown"]
    assert len(cards) == len(set(cards)) == 24  # each lead's card (its link differs) exactly once
    assert max(n.attempts for n in rows()) == 1


def test_concurrent_workers_on_postgresql_keep_the_throttle(app, make_store, make_staff_channel, make_lead, robot):
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    store = make_store()
    make_staff_channel(store, "KEYTHROTTLEPG")
    for _ in range(30):
        make_lead(store, None, commit=False)
    db.session.commit()
    real = client(timeout=2)

    def work():
        with app.app_context():
            for _ in range(5):
                deliver_due(client=real, now=T0, limit=7)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(robot.delivered) == 18  # one minute's worth (WeCom's 20 less the margin), however many workers


# --- by hand -----------------------------------------------------------------------------------------------

def test_retry_by_hand_requeues_a_failed_delivery(make_store, make_staff_channel, make_lead, make_user, robot):
    store = make_store()
    make_staff_channel(store, "KEYRETRYHAND")
    make_lead(store, None)
    robot.answer(Gone(), Error(0, "ok"))
    deliver_due(client=client(), now=T0)
    row = rows()[0]
    manual.retry_notification(row, actor=make_user(Role.OPERATOR), now=T0 + timedelta(minutes=5))
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)
    assert deliver_due(client=client(), now=T0 + timedelta(minutes=5)).sent == 1
    with pytest.raises(DomainError):
        manual.retry_notification(rows()[0], actor=make_user(Role.OPERATOR))


def test_retry_of_an_old_unnotified_lead_goes_to_the_staff_channel(make_store, make_community, make_staff_channel,
                                                                   make_lead, make_user, robot):
    """A lead the store's groups could not be told of before staff channels: retried, it waits for one, then goes."""
    store = make_store()
    lead = make_lead(store, None)
    db.session.delete(rows(lead)[0])
    old = Notification(kind=NotificationKind.LEAD_ALERT, lead_id=lead.id, store_id=store.id, attempts=0,
                       status=DeliveryStatus.FAILED, last_error=services.GROUPS_FULL,
                       message={"msgtype": "markdown", "markdown": {"content": "线索"}})
    db.session.add(old)
    db.session.commit()
    operator = make_user(Role.OPERATOR)
    manual.retry_notification(old, actor=operator, now=T0)
    assert old.status == DeliveryStatus.HELD  # no staff channel yet: it waits
    channel = make_staff_channel(store, "KEYNEWSTAFF", confirmed=False)
    from matrix.notifications.channels import confirm_candidate
    assert confirm_candidate(store, actor=operator, now=T0) == 1
    assert deliver_due(client=client(), now=T0).sent == 1
    assert len(robot.messages("KEYNEWSTAFF")) == 1 and old.staff_channel_id == channel.id


def test_clearing_the_flag_requeues_the_staff_channels_failures(make_store, make_staff_channel, make_lead, make_user,
                                                                 robot):
    store = make_store()
    channel = make_staff_channel(store, "KEYFLAGGED1")
    make_lead(store, None)
    make_lead(store, None)
    robot.answer(Gone(), Gone(), Error(0, "ok"))
    assert deliver_due(client=client(), now=T0).failed == 2
    db.session.refresh(channel)
    assert channel.robot_error
    requeued = manual.clear_staff_flag(channel, actor=make_user(Role.OPERATOR), requeue=True, now=T0)
    assert requeued == 2 and channel.robot_error is None
    assert deliver_due(client=client(), now=T0).sent == 2
    with pytest.raises(DomainError):
        manual.clear_staff_flag(channel, actor=make_user(Role.OPERATOR))


def test_a_new_webhook_url_clears_the_flag(make_store, make_community, make_user):
    from matrix.communities.services import update_community
    from matrix.communities.values import clean_community

    store = make_store()
    community = make_community(store, name="群A", robot_webhook_url=webhook("KEYOLDROBOT"), robot_error="errcode 93000")
    raw = {"store_id": store.id, "name": "群A", "robot_webhook_url": webhook("KEYNEWROBOT")}
    update_community(community, clean_community(raw), actor=make_user(Role.OPERATOR))
    assert community.robot_error is None
