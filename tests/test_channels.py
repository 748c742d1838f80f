"""Staff channel and customer robots never mix: confirming, rejecting, unconfirming and replacing a staff channel;
"which group is this robot in?"; the send-time check; and a property test over random sequences of all of it."""
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from robot_server import webhook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.communities.models import Community, StaffChannel
from matrix.communities.services import update_community
from matrix.communities.values import clean_community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.alerts import enqueue_for_lead
from matrix.leads.models import Lead, RoutingRule
from matrix.live import services
from matrix.live.settings import update_settings
from matrix.models import utcnow
from matrix.notifications import channels
from matrix.notifications.models import STAFF_KINDS, DeliveryStatus, Notification, NotificationKind
from matrix.notifications.services import DeliveryCounts, _claim, _record, deliver_due
from matrix.notifications.targets import BOTH_AUDIENCES, HELD_REASON
from matrix.notifications.wecom import RobotClient

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


def client() -> RobotClient:
    return RobotClient(base_url_override=current_app.config["WECOM_ROBOT_BASE_URL"], timeout=0.5)


def new_lead(store, *, now=T0, commit=True) -> Lead:
    lead = Lead(store_id=store.id, name="张三", phone_masked="138****5678", routing_rule=RoutingRule.CITY,
                received_at=now)
    db.session.add(lead)
    enqueue_for_lead(lead, now=now)
    if commit:
        db.session.commit()
    return lead


def rows(**where) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.scalars(query))


def test_confirming_the_candidate_releases_the_held_alerts_each_sent_once(make_store, make_community,
                                                                        make_staff_channel, hq, robot):
    store = make_store()
    group = make_community(store, name="老群", robot_webhook_url=webhook("KEYUPGRADED"))
    make_staff_channel(store, "KEYUPGRADED", confirmed=False, source_community_id=group.id)
    for _ in range(3):
        new_lead(store)
    assert {(r.status, r.last_error) for r in rows()} == {(DeliveryStatus.HELD, HELD_REASON)}
    assert deliver_due(client=client(), now=T0).handled == 0 and robot.requests == 0
    assert channels.confirm_candidate(store, actor=hq, now=T0) == 3
    db.session.refresh(group)
    assert group.robot_webhook_url is None  # the robot sits among staff: never a customer robot
    assert deliver_due(client=client(), now=T0).sent == 3
    assert deliver_due(client=client(), now=T0 + timedelta(hours=1)).handled == 0
    assert len(robot.messages("KEYUPGRADED")) == 3
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "staff_channel"))
    assert entry.changes["released"] == [0, 3] and "KEYUPGRADED" not in str(entry.changes)


def test_a_candidate_in_a_customer_group_is_rejected_and_its_alerts_keep_waiting(make_store, make_community,
                                                                               make_staff_channel, hq, robot):
    store = make_store()
    group = make_community(store, robot_webhook_url=webhook("KEYCUSTOMERS"))
    make_staff_channel(store, "KEYCUSTOMERS", confirmed=False)
    new_lead(store)
    channels.reject_candidate(store, actor=hq, now=T0)
    db.session.refresh(group)
    assert group.robot_confirmed and db.session.scalar(select(StaffChannel)) is None
    assert [r.status for r in rows()] == [DeliveryStatus.HELD]
    assert deliver_due(client=client(), now=T0).handled == 0 and robot.requests == 0
    with pytest.raises(DomainError):
        channels.reject_candidate(store, actor=hq)


def test_unconfirming_holds_waiting_alerts_and_a_claimed_one_is_checked_again(make_store, make_staff_channel, hq,
                                                                              robot):
    store = make_store()
    make_staff_channel(store, "KEYSTAFFNOW")
    new_lead(store)
    new_lead(store)
    counts = DeliveryCounts()
    [(claimed_id, lease), _second] = _claim(T0, 50, counts)  # a worker holds both rows ...
    assert channels.unconfirm_staff_channel(store, actor=hq, now=T0) == 0  # ... so none is held here
    _record(claimed_id, lease, T0, client(), counts)  # and the worker checks the channel again before sending
    assert counts.held == 1 and robot.requests == 0
    assert rows(id=claimed_id)[0].status == DeliveryStatus.HELD and rows(id=claimed_id)[0].attempts == 0
    later = T0 + timedelta(seconds=400)  # the second claim's lease ran out: it is waiting again
    assert deliver_due(client=client(), now=later).held == 1 and robot.requests == 0


def test_entering_a_staff_channel_needs_the_confirmation_and_a_free_robot(make_store, make_community,
                                                                         make_staff_channel, make_customer_group, hq):
    store, other = make_store(), make_store()
    make_customer_group(store, "KEYCONFIRMEDCUST")
    make_staff_channel(other, "KEYOTHERSTAFF")
    unsure = make_community(store, name="未确认群", robot_webhook_url=webhook("KEYUNSUREONE"))
    with pytest.raises(DomainError) as refused:
        channels.set_staff_channel(store, url=webhook("KEYNEWSTAFF1"), in_staff_group=False, actor=hq)
    assert refused.value.field == "in_staff_group"
    for url in (webhook("KEYCONFIRMEDCUST"), webhook("KEYOTHERSTAFF"), "https://example.com/hook?key=abcdefgh"):
        with pytest.raises(DomainError) as refused:
            channels.set_staff_channel(store, url=url, in_staff_group=True, actor=hq)
        assert refused.value.field == "robot_webhook_url"
    assert channels.staff_channel_of(store.id) is None
    channels.set_staff_channel(store, url=webhook("KEYUNSUREONE"), in_staff_group=True, actor=hq)
    db.session.refresh(unsure)
    assert channels.staff_channel_of(store.id).is_confirmed and unsure.robot_webhook_url is None


def test_replacing_the_staff_channel_clears_its_flag_and_pending_rows_follow(make_store, make_staff_channel, hq,
                                                                             robot):
    store = make_store()
    channel = make_staff_channel(store, "KEYOLDSTAFF", robot_error="errcode 93000")
    new_lead(store)
    channels.set_staff_channel(store, url=webhook("KEYNEWSTAFF2"), in_staff_group=True, actor=hq)
    assert channel.robot_error is None
    assert deliver_due(client=client(), now=T0).sent == 1 and len(robot.messages("KEYNEWSTAFF2")) == 1


def test_answering_which_group_a_robot_is_in(make_store, make_community, make_staff_channel, hq, robot):
    store = make_store()
    staff_group = make_community(store, name="员工误登记为群", robot_webhook_url=webhook("KEYREALLYSTAFF"))
    customers = make_community(store, name="顾客群", robot_webhook_url=webhook("KEYREALLYCUST"))
    make_staff_channel(store, "KEYREALLYCUST", confirmed=False)  # the upgrade guessed the wrong robot
    new_lead(store)
    assert channels.answer_group_robot(customers, audience="customers", actor=hq, now=T0) == 0
    assert channels.staff_channel_of(store.id) is None  # a customer group's robot is no staff candidate
    assert channels.answer_group_robot(staff_group, audience="staff", actor=hq, now=T0) == 1
    db.session.refresh(staff_group)
    assert staff_group.robot_webhook_url is None and customers.robot_confirmed
    assert deliver_due(client=client(), now=T0).sent == 1
    assert len(robot.messages("KEYREALLYSTAFF")) == 1 and robot.messages("KEYREALLYCUST") == []
    with pytest.raises(DomainError):
        channels.answer_group_robot(customers, audience="nobody", actor=hq)


def test_a_group_form_cannot_take_a_confirmed_staff_channels_robot(make_store, make_community, make_staff_channel, hq):
    store = make_store()
    make_staff_channel(store, "KEYSTAFFTAKEN")
    group = make_community(store, name="群A")
    with pytest.raises(DomainError) as refused:
        update_community(group, clean_community({"store_id": store.id, "name": "群A",
                                                 "robot_webhook_url": webhook("KEYSTAFFTAKEN")}), actor=hq)
    assert refused.value.field == "robot_webhook_url"
    update_community(group, clean_community({"store_id": store.id, "name": "群A",
                                             "robot_webhook_url": webhook("KEYGROUPOWN")}), actor=hq)
    assert group.robot_confirmed and group.robot_confirmed_by_id == hq.id  # entered on the group: its own robot


def test_the_send_time_check_refuses_a_robot_serving_both_audiences(make_store, make_community, make_staff_channel,
                                                                    robot):
    store = make_store()
    make_staff_channel(store, "KEYBOTHSIDES")
    new_lead(store)
    # Written around the services (a sheet import, a hand edit in the database): the group now has the same robot.
    db.session.add(Community(store_id=store.id, name="顾客群", robot_webhook_url=webhook("KEYBOTHSIDES")))
    db.session.commit()
    counts = deliver_due(client=client(), now=T0)
    assert counts.failed == 1 and robot.requests == 0
    assert rows()[0].last_error == BOTH_AUDIENCES


@pytest.mark.parametrize("row", [
    {"kind": NotificationKind.LEAD_ALERT, "community": True},
    {"kind": NotificationKind.LEAD_REMINDER, "community": True},
    {"kind": NotificationKind.DIGEST, "community": True},
    {"kind": NotificationKind.TRAILER_POST, "lead": True},
    {"kind": NotificationKind.LIVE_NOW, "staff": True},
])
def test_the_database_refuses_a_row_whose_target_is_of_the_other_audience(make_store, make_community,
                                                                          make_staff_channel, row):
    store = make_store()
    group = make_community(store, robot_webhook_url=webhook("KEYCHECKGROUP"))
    channel = make_staff_channel(store, "KEYCHECKSTAFF")
    lead = Lead(store_id=store.id, name="李四", routing_rule=RoutingRule.CITY, received_at=T0)
    db.session.add(lead)
    db.session.commit()
    db.session.add(Notification(kind=row["kind"], store_id=store.id, message={"msgtype": "text"},
                                community_id=group.id if row.get("community") or row["kind"] not in STAFF_KINDS else None,
                                staff_channel_id=channel.id if row.get("staff") else None,
                                lead_id=lead.id if row.get("lead") else None))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- property: over random sequences of everything, no staff message reaches a customer robot -----------------

KEYS = [f"KEYPROP{i:04d}" for i in range(6)]


class Watching:
    """A robot client that checks, at the moment of each send, which audience the robot serves right then."""

    def __init__(self, real: RobotClient, app):
        self.real, self.sent, self.app = real, [], app

    def send(self, url, message):
        with self.app.app_context():  # sends run in the worker's threads, which have no session of their own
            return self._send(url, message)

    def _send(self, url, message):
        text = str(message)
        staff = "New lead for" in text
        groups = set(db.session.scalars(select(Community.robot_webhook_url).where(Community.robot_webhook_url == url)))
        channel = db.session.scalar(select(StaffChannel).where(StaffChannel.robot_webhook_url == url))
        db.session.rollback()
        if staff:
            assert not groups, f"a lead alert went to a customer group's robot {url}"
            assert channel is not None and channel.is_confirmed
        else:
            assert channel is None, f"a customer post went to a staff channel {url}"
        self.sent.append((url, staff))
        return self.real.send(url, message)


def _step(rng: random.Random, stores, hq, now):
    store = rng.choice(stores)
    groups = list(db.session.scalars(select(Community).where(Community.store_id == store.id)))
    action = rng.choice(["lead", "lead", "session", "confirm", "reject", "unconfirm", "enter", "answer",
                         "group_robot"])
    if action == "lead":
        new_lead(store, now=now)
    elif action == "session":
        start = (now + timedelta(hours=rng.choice([2, 4, 5]), minutes=rng.randrange(60))).astimezone(SHANGHAI)
        cleaned = services.clean_session({"account_id": store.account_id, "day": start.date().isoformat(),
                                          "start": f"{start:%H:%M}", "end": f"{start + timedelta(minutes=30):%H:%M}",
                                          "title": "快闪直播", "anchor": f"主播{rng.randrange(10**6)}"}, actor=hq)
        services.schedule_session(cleaned, actor=hq, accept_nearby=True)
    elif action == "confirm":
        channels.confirm_candidate(store, actor=hq, now=now)
    elif action == "reject":
        channels.reject_candidate(store, actor=hq, now=now)
    elif action == "unconfirm":
        channels.unconfirm_staff_channel(store, actor=hq, now=now)
    elif action == "enter":
        channels.set_staff_channel(store, url=webhook(rng.choice(KEYS)), in_staff_group=True, actor=hq, now=now)
    elif action == "answer" and groups:
        channels.answer_group_robot(rng.choice(groups), audience=rng.choice(["staff", "customers"]), actor=hq, now=now)
    elif action == "group_robot" and groups:
        group = rng.choice(groups)
        update_community(group, clean_community({"store_id": store.id, "name": group.name,
                                                 "robot_webhook_url": webhook(rng.choice(KEYS))}), actor=hq)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_staff_message_ever_reaches_a_customer_robot(app, make_store, make_community, make_account, hq, robot,
                                                         seed):
    """Random sequences of leads, sessions, answers, confirmations and robot changes: at the moment of every send,
    a lead alert's robot is a confirmed staff channel and no group's, a post's robot no staff channel's."""
    rng = random.Random(seed)
    update_settings({"nearby_km": "0", "quiet_start": "00:00", "quiet_end": "00:00", "evening_slot": "20:00"},
                    actor=hq)
    stores = [make_store(), make_store()]
    for store in stores:  # as the upgrade leaves them: robots on groups, candidates unconfirmed
        store.account_id = make_account(store).id
        for n in range(2):
            make_community(store, name=f"群{n}", robot_webhook_url=webhook(rng.choice(KEYS)))
        group = db.session.scalar(select(Community).where(Community.store_id == store.id))
        db.session.add(StaffChannel(store_id=store.id, robot_webhook_url=group.robot_webhook_url))
    db.session.commit()
    watching, now = Watching(client(), app), utcnow().replace(microsecond=0)
    for _ in range(60):
        try:
            _step(rng, stores, hq, now)
        except (DomainError, services.ScheduleConflict):
            db.session.rollback()
        if rng.random() < 0.3:
            deliver_due(client=watching, now=now)
        now += timedelta(seconds=rng.choice([1, 30, 90, 900]))
        assert all(r.community_id is None for r in rows() if r.kind in STAFF_KINDS)
    for hour in range(8):
        for _round in range(5):
            deliver_due(client=watching, now=now + timedelta(hours=hour, minutes=_round * 2), limit=200)
    sent = rows(status=DeliveryStatus.SENT)
    assert len({r.id for r in sent}) == len(sent) and len(watching.sent) >= len(sent)
    assert {staff for _url, staff in watching.sent} == {True, False}  # both audiences were exercised
