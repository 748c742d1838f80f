"""`flask worker`: one round for cron, and the loop that sleeps when idle."""
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from matrix.extensions import db
from matrix.notifications import worker
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.notifications.wecom import RobotClient


@pytest.fixture
def queued(make_store, make_staff_channel):
    """Three due messages for one staff channel's robot."""
    store = make_store()
    channel = make_staff_channel(store, "KEYWORKER1")
    db.session.add_all([Notification(kind=NotificationKind.LEAD_ALERT, store_id=store.id, staff_channel_id=channel.id,
                                     message={"msgtype": "text", "text": {"content": f"线索 {i}"}})
                        for i in range(3)])
    db.session.commit()


def statuses() -> list[str]:
    db.session.expire_all()
    return [s.value for s in db.session.scalars(select(Notification.status).order_by(Notification.id))]


def test_once_delivers_what_is_due(app, queued, robot):
    lines = []
    counts = worker.run_worker(once=True, echo=lines.append)
    assert counts.sent == 3 and statuses() == ["sent"] * 3
    assert lines == ["sent 3, retry later 0, failed 0, throttled 0"]


def test_the_cli_command_once(app, queued, robot):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 3" in result.output
    assert len(robot.delivered) == 3


def test_the_loop_sleeps_when_idle_and_stops_on_a_signal(app, queued, robot, monkeypatch):
    monkeypatch.setattr(worker, "_install", lambda stop: stops.append(stop))
    stops, naps, lines = [], [], []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            stops[0](15, None)  # SIGTERM: finish the round, then leave

    worker.run_worker(interval=0.5, echo=lines.append, sleep=nap,
                      client=RobotClient.from_config(app.config))
    assert naps == [0.5, 0.5] and statuses() == ["sent"] * 3
    assert lines[0].startswith("worker started") and lines[-1] == "worker stopped"


def test_a_full_round_goes_again_without_sleeping(app, queued, robot, monkeypatch):
    monkeypatch.setattr(worker, "_install", lambda stop: stops.append(stop))
    stops, naps = [], []

    def nap(seconds):
        naps.append(seconds)
        stops[0](2, None)

    worker.run_worker(limit=1, echo=lambda line: None, sleep=nap)
    assert statuses() == ["sent"] * 3 and len(naps) == 1  # three busy rounds, then one idle round


def test_a_database_error_does_not_kill_the_loop(app, queued, robot, monkeypatch):
    real = worker.Dispatcher.claim
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(worker.Dispatcher, "claim", flaky)
    monkeypatch.setattr(worker, "_install", lambda stop: stops.append(stop))
    stops, lines = [], []
    worker.run_worker(echo=lines.append, sleep=lambda s: stops[0](15, None) if len(calls) > 2 else None)
    assert any(line.startswith("database error") for line in lines)
    assert statuses() == [DeliveryStatus.SENT.value] * 3
