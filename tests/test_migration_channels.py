"""Migration 0c806d2f1e92 on a database with robots recorded the old way: nothing lost, nothing sent to an
unconfirmed robot, and the held alerts go out once each when the staff channel is confirmed."""
import os
from datetime import datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from robot_server import RobotStandIn, webhook
from sqlalchemy import create_engine, select, text

from config import TestConfig
from matrix import create_app
from matrix.auth.models import User
from matrix.communities.models import Community, StaffChannel
from matrix.extensions import db
from matrix.notifications.channels import confirm_candidate
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.notifications.services import deliver_due
from matrix.notifications.targets import HELD_REASON
from matrix.notifications.wecom import RobotClient
from matrix.stores.models import Store

AFTER = "0c806d2f1e92"  # the channels migration
# The revision it follows, read from the chain: later branches' migrations may have moved it.
BEFORE = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations")).get_revision(AFTER).down_revision
NOW = datetime(2026, 12, 1, 2, 0)  # naive UTC, as the columns store it
SCHEMA = "channels_upgrade"


@pytest.fixture
def old_database(tmp_path):
    """An app on a database of its own (a schema of its own on PostgreSQL), migrated up to the revision before."""
    url = os.environ.get("TEST_DATABASE_URL")
    connect_args = {}
    if url:
        with create_engine(url).begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
        connect_args = {"options": f"-csearch_path={SCHEMA}"}

    class Settings(TestConfig):
        SQLALCHEMY_DATABASE_URI = url or "sqlite:///" + str(tmp_path / "old.db")
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": connect_args}

    app = create_app(Settings)
    with app.app_context():
        upgrade(revision=BEFORE)
        yield app
        db.session.remove()
        db.engine.dispose()


def _seed() -> dict:
    """Two stores the old way: HZ-001's groups have robots (the second in rotation comes first), SH-002 has none."""
    run = lambda sql, **values: db.session.execute(text(sql), values)  # noqa: E731
    run("INSERT INTO regions (code, name, short_name, level) VALUES ('330100', '杭州市', '杭州', 'city')")
    run("INSERT INTO users (id, username, display_name, password_hash, role, locale, active, created_at) "
        "VALUES (1, 'hq', 'HQ', 'x', 'operator', 'zh', :yes, :now)", yes=True, now=NOW)
    for store_id, code in ((1, "HZ-001"), (2, "SH-002")):
        run("INSERT INTO stores (id, code, name, city_code, address, geocode_status, service_radius_km, status, "
            "created_at, updated_at, version) VALUES (:id, :code, :code, '330100', '', 'missing', 3, 'open', :now, :now, 1)",
            id=store_id, code=code, now=NOW)
    for group_id, store_id, order, key in ((1, 1, 2, "KEYOLDGROUPA"), (2, 1, 1, "KEYOLDGROUPB"), (3, 2, 1, None)):
        run("INSERT INTO communities (id, store_id, name, kind, capacity, members, active, rotation_order, "
            "robot_webhook_url, created_at, updated_at) VALUES (:id, :store, :name, 'wecom', 200, 0, :yes, :order, "
            ":url, :now, :now)", id=group_id, store=store_id, name=f"群{group_id}", yes=True, order=order,
            url=webhook(key) if key else None, now=NOW)
    for lead_id, store_id, group_id in ((1, 1, 1), (2, 1, 2), (3, 2, 3)):
        run("INSERT INTO leads (id, name, province_text, city_text, address_text, status, received_at, store_id, "
            "community_id) VALUES (:id, '客户', '', '', '', 'new', :now, :store, :group)",
            id=lead_id, now=NOW, store=store_id, group=group_id)
    message = '{"msgtype": "markdown", "markdown": {"content": "lead"}}'
    for row_id, lead_id, store_id, group_id, status, attempts in ((1, 1, 1, 1, "pending", 0), (2, 2, 1, 2, "pending", 2),
                                                                  (3, 1, 1, 1, "sent", 1), (4, 3, 2, None, "failed", 0),
                                                                  (5, 3, 2, 3, "pending", 0)):
        run("INSERT INTO notifications (id, lead_id, community_id, store_id, message, status, attempts, "
            "next_attempt_at, locked_until, created_at) VALUES (:id, :lead, :group, :store, :message, :status, "
            ":attempts, :now, :now, :now)", id=row_id, lead=lead_id, group=group_id, store=store_id, message=message,
            status=status, attempts=attempts, now=NOW)
    db.session.commit()


def test_the_upgrade_moves_old_robots_safely(old_database):
    _seed()
    upgrade()  # to the head: the app's models write to every later column too
    db.session.remove()
    [candidate] = db.session.scalars(select(StaffChannel)).all()
    assert (candidate.store_id, candidate.robot_webhook_url, candidate.source_community_id) == (
        1, webhook("KEYOLDGROUPB"), 2)
    assert not candidate.is_confirmed  # a guess: nobody has said it sits in the staff group
    groups = {g.id: g for g in db.session.scalars(select(Community))}
    assert groups[1].robot_webhook_url == webhook("KEYOLDGROUPA") and not groups[1].robot_confirmed  # kept, unsure
    rows = {n.id: n for n in db.session.scalars(select(Notification))}
    assert len(rows) == 5 and {n.kind for n in rows.values()} == {NotificationKind.LEAD_ALERT}
    assert all(n.community_id is None for n in rows.values())  # no lead alert names a customer group any more
    assert [(rows[i].status, rows[i].last_error) for i in (1, 2, 5)] == [(DeliveryStatus.HELD, HELD_REASON)] * 3
    assert (rows[1].staff_channel_id, rows[5].staff_channel_id, rows[1].locked_until) == (candidate.id, None, None)
    assert (rows[3].status, rows[4].status) == (DeliveryStatus.SENT, DeliveryStatus.FAILED)

    robot = RobotStandIn().start()
    try:
        client = RobotClient(base_url_override=robot.base_url, timeout=0.5)
        far = datetime.now().astimezone()
        assert deliver_due(client=client, now=far).handled == 0 and robot.requests == 0
        store = db.session.get(Store, 1)
        assert confirm_candidate(store, actor=db.session.get(User, 1), now=far) == 2
        assert deliver_due(client=client, now=far).sent == 2
        assert deliver_due(client=client, now=far).handled == 0
        assert len(robot.messages("KEYOLDGROUPB")) == 2 and robot.messages("KEYOLDGROUPA") == []
    finally:
        robot.stop()
    db.session.remove()
    downgrade(revision=BEFORE)  # and back: the held alert of SH-002 waits for its group's robot again
    status, group = db.session.execute(text("SELECT status, community_id FROM notifications WHERE id = 5")).one()
    assert (status, group) == ("pending", 3)
