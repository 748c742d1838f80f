"""The worker's periodic step: one reminder per lead still new, one digest per store and day, staff channels only."""
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import current_app
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.broadcasts import schedule
from matrix.broadcasts.services import update_broadcast_settings
from matrix.communities.models import StaffChannel
from matrix.content.models import ContentItem, ContentKind, ItemStatus
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.models import LeadStatus
from matrix.notifications import worker
from matrix.notifications.models import Notification, NotificationKind
from matrix.notifications.services import deliver_due
from matrix.notifications.wecom import RobotClient

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai
DAY = date(2025, 3, 3)


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


@pytest.fixture
def stores(make_store, make_staff_channel):
    """A store with a confirmed staff channel and one whose channel is still an unconfirmed candidate."""
    confirmed, waiting = make_store(code="HZ-001", name="西湖店"), make_store(code="HZ-002", name="滨江店")
    make_staff_channel(confirmed, "KEYSTAFFDIGEST")
    make_staff_channel(waiting, "KEYSTAFFWAIT", confirmed=False)
    return confirmed, waiting


def written(kind) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def client() -> RobotClient:
    return RobotClient(base_url_override=current_app.config["WECOM_ROBOT_BASE_URL"], timeout=0.5)


def test_a_lead_still_new_gets_one_reminder_in_its_staff_channel(stores, make_lead, robot):
    confirmed, waiting = stores
    old = make_lead(confirmed, received_at=T0 - timedelta(hours=5))
    make_lead(confirmed, received_at=T0 - timedelta(hours=1))                      # not overdue yet
    make_lead(confirmed, received_at=T0 - timedelta(hours=6), status=LeadStatus.CONTACTED)
    make_lead(confirmed, received_at=T0 - timedelta(days=5))                       # missed long ago
    make_lead(waiting, received_at=T0 - timedelta(hours=5))                        # no confirmed channel
    assert schedule.run_periodic(T0).reminders == 1
    assert schedule.run_periodic(T0 + timedelta(minutes=1)).reminders == 0         # once per lead
    [reminder] = written(NotificationKind.LEAD_REMINDER)
    assert (reminder.lead_id, reminder.dedupe_key, reminder.community_id) == (old.id, f"remind:{old.id}", None)
    assert deliver_due(client=client(), now=T0).sent == 1
    [message] = robot.messages("KEYSTAFFDIGEST")
    assert "138****5678" in message["markdown"]["content"] and "13812345678" not in str(message)


def test_two_workers_writing_at_once_write_each_reminder_once(stores, make_lead):
    confirmed, _waiting = stores
    make_lead(confirmed, received_at=T0 - timedelta(hours=5))
    channel_id = db.session.scalar(select(StaffChannel.id).where(StaffChannel.store_id == confirmed.id))
    rows = [schedule._staff_row(NotificationKind.LEAD_REMINDER, confirmed.id, channel_id, "remind:race",
                                {"msgtype": "text"}, T0)]
    assert schedule._insert_once(rows) == 1
    assert schedule._insert_once(rows) == 0  # the second writer's row meets the unique key and is skipped
    db.session.commit()
    assert len(written(NotificationKind.LEAD_REMINDER)) == 1


def test_no_reminders_in_the_quiet_hours_or_when_switched_off(stores, make_lead, hq):
    confirmed, _waiting = stores
    make_lead(confirmed, received_at=T0 - timedelta(hours=10))
    night = datetime(2025, 3, 3, 15, 0, tzinfo=timezone.utc)  # 23:00 in Shanghai
    assert schedule.run_periodic(night).reminders == 0
    update_broadcast_settings({"reminder_hours": "0", "digest_on": True, "digest_at": "08:30"}, actor=hq)
    assert schedule.run_periodic(T0).reminders == 0
    update_broadcast_settings({"reminder_hours": "2", "digest_on": True, "digest_at": "08:30"}, actor=hq)
    assert schedule.run_periodic(T0).reminders == 1


def test_the_daily_digest_lists_the_stores_day_once(stores, make_account, robot, hq):
    confirmed, waiting = stores
    account = make_account(confirmed)
    other = make_account(waiting)
    db.session.add_all([
        ContentItem(store_id=confirmed.id, account_id=account.id, day=DAY, slot="12:00", kind=ContentKind.SHORT_VIDEO,
                    topic="新品上架"),
        ContentItem(store_id=confirmed.id, account_id=account.id, day=DAY, slot="16:00", kind=ContentKind.TRAILER,
                    topic="直播预告：周末场"),
        ContentItem(store_id=confirmed.id, account_id=account.id, day=DAY, slot="18:00", kind=ContentKind.IMAGE_POST,
                    topic="已取消", status=ItemStatus.CANCELLED),
        ContentItem(store_id=waiting.id, account_id=other.id, day=DAY, slot="12:00", kind=ContentKind.SHORT_VIDEO,
                    topic="滨江内容")])
    db.session.commit()
    before = datetime(2025, 3, 3, 0, 29, tzinfo=timezone.utc)  # 08:29
    assert schedule.run_periodic(before).digests == 0
    at = datetime(2025, 3, 3, 0, 30, tzinfo=timezone.utc)
    assert schedule.run_periodic(at).digests == 1
    assert schedule.run_periodic(at + timedelta(minutes=1)).digests == 0
    [digest] = written(NotificationKind.DIGEST)
    assert digest.dedupe_key == f"digest:{confirmed.id}:2025-03-03" and digest.store_id == confirmed.id
    content = digest.message["markdown"]["content"]
    assert "新品上架" in content and "直播预告：周末场" in content and "已取消" not in content
    assert "滨江内容" not in content
    assert deliver_due(client=client(), now=at).sent == 1 and len(robot.messages("KEYSTAFFDIGEST")) == 1
    late = datetime(2025, 3, 3, 4, 0, tzinfo=timezone.utc)  # 12:00, past the window: a worker started late
    update_broadcast_settings({"reminder_hours": "4", "digest_on": True, "digest_at": "07:00"}, actor=hq)
    assert schedule.run_periodic(late).digests == 0


def test_settings_are_checked(hq):
    with pytest.raises(DomainError) as refused:
        update_broadcast_settings({"reminder_hours": "100", "digest_at": "8点"}, actor=hq)
    assert set(refused.value.errors) == {"reminder_hours", "digest_at"}


def test_the_worker_runs_the_periodic_step_about_once_a_minute(app, monkeypatch):
    monkeypatch.setattr(worker, "_install", lambda stop: stops.append(stop))
    stops, calls, ticks = [], [], iter([0, 0, 10, 70, 70, 80])

    def periodic():
        calls.append(1)
        return schedule.Written(reminders=1)

    def nap(seconds):
        if len(calls) == 2:
            stops[0](15, None)

    lines = []
    worker.run_worker(echo=lines.append, sleep=nap, periodic=periodic, clock=lambda: next(ticks),
                      client=RobotClient.from_config(app.config))
    assert len(calls) == 2 and "written: reminders 1, digests 0" in lines
    assert worker.run_worker(once=True, periodic=periodic, echo=lines.append).handled == 0 and len(calls) == 3
