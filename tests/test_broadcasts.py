"""Posts to customer groups: written with the trailers, at the trailer's time, never in the quiet hours;
moved, withdrawn and switched off with their session and store; sent once through the outbox."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.broadcasts.services import set_community_posts
from matrix.extensions import db
from matrix.live import services
from matrix.live.settings import default_rule, save_rule, update_settings
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.notifications.services import deliver_due
from matrix.notifications.targets import MOVED, POSTS_OFF, SESSION_OFF, TOO_LATE
from matrix.notifications.wecom import RobotClient

ZONE = ZoneInfo("Asia/Shanghai")
DAY = (datetime.now(ZONE) + timedelta(days=9)).date()
PROFILE = "https://www.douyin.com/user/qimu_hz"


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


@pytest.fixture
def host(make_store, make_account, make_customer_group):
    """A store with two confirmed customer groups and an unconfirmed one, and its Douyin account."""
    store = make_store(code="HZ-001", name="西湖店")
    groups = [make_customer_group(store, "KEYCUSTONE", name="西湖1群"),
              make_customer_group(store, "KEYCUSTTWO", name="西湖2群"),
              make_customer_group(store, "KEYUNSURE", name="西湖3群", confirmed=False)]
    return {"store": store, "groups": groups, "account": make_account(store, profile_url=PROFILE)}


def local(day, at: str) -> datetime:
    hour, minute = map(int, at.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def book(account, actor, *, day=DAY, start="19:00", end="21:00", **extra):
    cleaned = services.clean_session({"account_id": account.id, "day": day.isoformat(), "start": start, "end": end,
                                      "title": "冬季新品直播", "anchor": "李娜", "theme": "羽绒被", **extra},
                                     actor=actor)
    return services.schedule_session(cleaned, actor=actor, accept_nearby=True)[0]


def posts(session=None, status=None) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.kind.in_((NotificationKind.TRAILER_POST, NotificationKind.LIVE_NOW)))
    if session is not None:
        query = query.where(Notification.session_id == session.id)
    if status is not None:
        query = query.where(Notification.status == status)
    return list(db.session.scalars(query.order_by(Notification.next_attempt_at, Notification.community_id)))


def client() -> RobotClient:
    return RobotClient(base_url_override=current_app.config["WECOM_ROBOT_BASE_URL"], timeout=0.5)


def schedule(rows) -> list[tuple]:
    return [(n.kind.value, n.next_attempt_at.astimezone(ZONE).strftime("%m-%d %H:%M"), n.community_id) for n in rows]


def test_booking_writes_the_flagged_trailers_and_live_now_for_each_confirmed_group(host, hq):
    session = book(host["account"], hq, live_url="https://live.douyin.com/7788")
    one, two, unsure = host["groups"]
    day_before = (DAY - timedelta(days=1)).strftime("%m-%d")
    today = DAY.strftime("%m-%d")
    # The default rule sends the 1-day and 3-hour trailers to the community; 3 days and 30 minutes stay off.
    assert schedule(posts(session)) == [
        ("trailer_post", f"{day_before} 19:00", one.id), ("trailer_post", f"{day_before} 19:00", two.id),
        ("trailer_post", f"{today} 16:00", one.id), ("trailer_post", f"{today} 16:00", two.id),
        ("live_now", f"{today} 19:00", one.id), ("live_now", f"{today} 19:00", two.id)]
    assert unsure.id not in {n.community_id for n in posts()}  # an unconfirmed robot gets nothing
    trailer, live = posts(session)[0], posts(session)[-1]
    assert trailer.message["msgtype"] == "text" and "冬季新品直播" in trailer.message["text"]["content"]
    assert "https://live.douyin.com/7788" in live.message["text"]["content"]
    assert trailer.expires_at == session.starts_at and live.expires_at == session.ends_at
    assert all(n.lead_id is None and n.staff_channel_id is None for n in posts())


def test_the_live_post_falls_back_to_the_profile_link(host, hq):
    session = book(host["account"], hq)
    live = [n for n in posts(session) if n.kind == NotificationKind.LIVE_NOW][0]
    assert PROFILE in live.message["text"]["content"]


def test_posts_go_out_at_their_time_once(host, hq, robot):
    session = book(host["account"], hq)
    first_due = posts(session)[0].next_attempt_at
    assert deliver_due(client=client(), now=first_due - timedelta(seconds=1)).handled == 0
    assert deliver_due(client=client(), now=first_due).sent == 2
    assert deliver_due(client=client(), now=first_due + timedelta(minutes=1)).handled == 0
    assert len(robot.messages("KEYCUSTONE")) == len(robot.messages("KEYCUSTTWO")) == 1
    assert robot.messages("KEYUNSURE") == []


def test_night_steps_move_to_the_evening_before_and_a_night_start_gets_no_live_post(host, hq):
    # 23:00: the 3-hour trailer is due 20:00 (outside), the 1-day one 23:00 the day before moves to 20:00.
    late = book(host["account"], hq, start="23:00", end="23:59")
    assert {(k, at) for k, at, _g in schedule(posts(late))} == {
        ("trailer_post", f"{(DAY - timedelta(days=1)):%m-%d} 20:00"), ("trailer_post", f"{DAY:%m-%d} 20:00")}
    early = book(host["account"], hq, day=DAY + timedelta(days=2), start="08:30", end="10:00", anchor="王强")
    day = DAY + timedelta(days=2)
    # 05:30 falls in the quiet hours (22:00-08:00): the evening slot before; the start itself is outside them.
    assert {(k, at) for k, at, _g in schedule(posts(early))} == {
        ("trailer_post", f"{(day - timedelta(days=1)):%m-%d} 08:30"),
        ("trailer_post", f"{(day - timedelta(days=1)):%m-%d} 20:00"), ("live_now", f"{day:%m-%d} 08:30")}


def test_a_post_that_reaches_the_quiet_hours_waits_for_their_end_and_is_withdrawn_when_late(host, hq, robot):
    session = book(host["account"], hq)
    post = posts(session)[0]
    night = local(DAY - timedelta(days=1), "22:30")
    post.next_attempt_at = night  # retried or throttled into the night
    db.session.commit()
    counts = deliver_due(client=client(), now=night)
    assert counts.deferred == 2 and counts.sent == 0 and robot.requests == 0  # the other 1-day post too
    db.session.refresh(post)
    assert post.next_attempt_at == local(DAY, "08:00")
    assert deliver_due(client=client(), now=local(DAY, "08:00")).sent >= 1
    # A trailer whose session has begun is too late to announce it.
    counts = deliver_due(client=client(), now=session.starts_at + timedelta(minutes=5), limit=1)
    [late] = posts(session, DeliveryStatus.CANCELLED)
    assert (late.kind, late.last_error, counts.withdrawn) == (NotificationKind.TRAILER_POST, TOO_LATE, 1)


def test_moving_a_session_moves_waiting_posts_and_keeps_sent_ones(host, hq, robot):
    session = book(host["account"], hq)
    sent_due = posts(session)[0].next_attempt_at
    deliver_due(client=client(), now=sent_due)  # the 1-day trailers went out
    values = services.clean_session({"account_id": host["account"].id, "day": (DAY + timedelta(days=1)).isoformat(),
                                     "start": "20:00", "end": "22:00", "title": "冬季新品直播", "anchor": "李娜",
                                     "theme": "羽绒被"}, actor=hq)
    _session, report = services.move_session(session, values, actor=hq)
    waiting = posts(session, DeliveryStatus.PENDING)
    assert {at for _k, at, _g in schedule(waiting)} == {f"{DAY:%m-%d} 20:00", f"{(DAY + timedelta(days=1)):%m-%d} 17:00",
                                                       f"{(DAY + timedelta(days=1)):%m-%d} 20:00"}
    assert len(waiting) == 6 and report.posts == {"added": 2, "moved": 4, "withdrawn": 0}
    assert len(posts(session, DeliveryStatus.SENT)) == 2  # on record, under retired keys
    assert all("20:00" in n.message["text"]["content"] for n in waiting if n.kind == NotificationKind.TRAILER_POST)


def test_cancelling_withdraws_waiting_posts(host, hq, robot):
    session = book(host["account"], hq)
    services.cancel_session(session, actor=hq, reason="主播病了")
    assert {(n.status, n.last_error) for n in posts(session)} == {(DeliveryStatus.CANCELLED, SESSION_OFF)}
    assert deliver_due(client=client(), now=local(DAY, "19:00")).handled == 0 and robot.requests == 0


def test_a_session_moved_into_the_quiet_hours_withdraws_its_live_post(host, hq):
    session = book(host["account"], hq)
    values = services.clean_session({"account_id": host["account"].id, "day": DAY.isoformat(), "start": "22:30",
                                     "end": "23:30", "title": "夜场", "anchor": "李娜", "theme": ""}, actor=hq)
    services.move_session(session, values, actor=hq)
    live = [n for n in posts(session) if n.kind == NotificationKind.LIVE_NOW]
    assert {(n.status, n.last_error) for n in live} == {(DeliveryStatus.CANCELLED, MOVED)}


def test_a_sent_post_is_not_sent_again_when_its_session_moves_back(host, hq, robot):
    session = book(host["account"], hq)
    deliver_due(client=client(), now=posts(session)[0].next_attempt_at)
    form = {"account_id": host["account"].id, "start": "19:00", "end": "21:00", "title": "冬季新品直播",
            "anchor": "李娜", "theme": "羽绒被"}
    services.move_session(session, services.clean_session({**form, "day": (DAY + timedelta(days=1)).isoformat()},
                                                          actor=hq), actor=hq)
    services.move_session(session, services.clean_session({**form, "day": DAY.isoformat()}, actor=hq), actor=hq)
    keys = [n.dedupe_key for n in posts(session) if n.status != DeliveryStatus.CANCELLED]
    assert len(keys) == len(set(keys)) == 6  # the two sent ones count for their time again; nothing doubled


def test_switching_community_posts_off_withdraws_and_on_writes_them_again(host, hq, make_user):
    session = book(host["account"], hq)
    manager = make_user(Role.STORE_MANAGER, stores=[host["store"]])
    report = set_community_posts(host["store"], on=False, actor=manager)
    assert report.withdrawn == 6 and {n.last_error for n in posts(session)} == {POSTS_OFF}
    book(host["account"], hq, day=DAY + timedelta(days=3))
    assert posts(status=DeliveryStatus.PENDING) == []  # a new session of a store that switched off gets none
    report = set_community_posts(host["store"], on=True, actor=manager)
    assert report.moved == 6 and report.added == 6
    assert len(posts(status=DeliveryStatus.PENDING)) == 12


def test_only_steps_the_rule_marks_go_to_the_community(host, hq):
    save_rule(default_rule(), {"name": "只发开播", "is_default": "y", "steps": [{"offset": "1d"}, {"offset": "3h"}],
                               "sibling_km": "0", "max_siblings": "0", "topic": "预告", "caption": "", "hashtags": ""},
              actor=hq)
    session = book(host["account"], hq)
    assert {n.kind for n in posts(session)} == {NotificationKind.LIVE_NOW}


def test_the_robot_limit_holds_for_posts(make_store, make_account, make_customer_group, hq, robot):
    update_settings({"nearby_km": "0", "quiet_start": "00:00", "quiet_end": "00:00", "evening_slot": "20:00"},
                    actor=hq)
    group_stores = [make_store() for _ in range(12)]
    for store in group_stores:
        make_customer_group(store, "KEYSHAREDROBOT", name=f"共享{store.id}")  # one robot added to twelve groups
    for i, store in enumerate(group_stores):
        book(make_account(store), hq, anchor=f"主播{i}")
    counts = deliver_due(client=client(), now=local(DAY, "16:00"), limit=100)
    assert counts.sent == 18 and counts.throttled == 6  # twelve 1-day and twelve 3-hour trailers were due
    assert len(robot.messages("KEYSHAREDROBOT")) == 18  # WeCom's 20 a minute, less a margin of 2


def test_a_trailer_changed_by_hand_changes_its_posts(host, hq, make_user):
    from matrix.content.models import ContentItem
    from matrix.plans import services as plans

    session = book(host["account"], hq)
    manager = make_user(Role.STORE_MANAGER, stores=[host["store"]])
    day_trailer = db.session.scalar(select(ContentItem).where(ContentItem.session_id == session.id,
                                                              ContentItem.generation_key.endswith(":1440")))
    plans.edit_item(day_trailer, actor=manager, topic="明晚见", caption="进店有礼，直播间抽奖", script="", hashtags="")
    texts = {n.message["text"]["content"] for n in posts(session) if n.not_before == local(DAY - timedelta(days=1),
                                                                                         "19:00")}
    assert len(texts) == 1 and "进店有礼，直播间抽奖" in texts.pop()
    plans.change_status(day_trailer, actor=manager, status="skipped", reason="门店盘点")
    withdrawn = posts(session, DeliveryStatus.CANCELLED)
    assert len(withdrawn) == 2 and {n.last_error for n in withdrawn} == {MOVED}
