"""The worker's sends: robots side by side, one message at a time per robot and in order; a hanging robot holds
up no other; a failing robot's other rows wait; sent_at is when the robot answered; leases are short and renewed."""
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from matrix.extensions import db
from matrix.notifications.claims import DeliveryCounts, claim_rows
from matrix.notifications.dispatch import Dispatcher
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.notifications.services import deliver_due
from matrix.notifications.wecom import RobotResult

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=timezone.utc)


class Clock:
    """A fake "now" the robots can move forward (a round trip takes time by the robot's clock)."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


class Robots:
    """A stand-in client: records each call; `hang` robots wait for `release` (or give up like a time-out)."""

    def __init__(self, hang=(), fail=(), clock=None, step=timedelta(0)):
        self.hang, self.fail, self.clock, self.step = set(hang), set(fail), clock, step
        self.calls, self.release, self.lock = [], threading.Event(), threading.Lock()
        self.open, self.most_open = {}, {}

    def send(self, url, message):
        key = url.rsplit("=", 1)[1]
        with self.lock:
            self.open[key] = self.open.get(key, 0) + 1
            self.most_open[key] = max(self.most_open.get(key, 0), self.open[key])
        try:
            if key in self.hang:
                released = self.release.wait(5)
                return RobotResult(ok=False, error="timeout" if not released else "released")
            with self.lock:
                self.calls.append((key, message["text"]["content"]))
                if self.clock is not None:
                    self.clock.now += self.step
            return RobotResult(ok=False, error="HTTP 500") if key in self.fail else RobotResult.sent()
        finally:
            with self.lock:
                self.open[key] -= 1

    def sent_to(self, key):
        return [text for k, text in self.calls if k == key]


def queue(make_store, make_staff_channel, keys_and_counts):
    """`n` lead alerts for the staff channel of each robot key, in order."""
    for key, n in keys_and_counts:
        store = make_store()
        channel = make_staff_channel(store, key)
        db.session.add_all([Notification(kind=NotificationKind.LEAD_ALERT, store_id=store.id,
                                         staff_channel_id=channel.id, next_attempt_at=T0,
                                         message={"msgtype": "text", "text": {"content": f"{key} {i}"}})
                            for i in range(n)])
    db.session.commit()


def rows(key=None):
    db.session.expire_all()
    found = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    return [r for r in found if key is None or r.message["text"]["content"].startswith(key)]


def test_a_hanging_robot_holds_up_no_other(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("HANG", 3), ("OKA", 2), ("OKB", 2)])
    robots = Robots(hang={"HANG"})

    def others_done_then_release():
        if len(robots.calls) == 4:
            robots.release.set()  # the hanging call returns only once every other robot was served
    original = robots.send
    robots.send = lambda url, message: (original(url, message), others_done_then_release())[0]
    counts = deliver_due(client=robots, now=T0)
    assert rows("HANG")[0].last_error == "released"  # not "timeout": every other robot was served meanwhile
    assert robots.sent_to("OKA") == ["OKA 0", "OKA 1"] and robots.sent_to("OKB") == ["OKB 0", "OKB 1"]
    assert (counts.sent, counts.retried, counts.throttled) == (4, 1, 2)
    hang = rows("HANG")
    assert [r.attempts for r in hang] == [1, 0, 0]  # only the first was tried; the others were given back
    assert all(r.next_attempt_at >= T0 + timedelta(seconds=30) and r.locked_until is None for r in hang)


def test_one_robot_gets_one_message_at_a_time_in_order(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("ONE", 6), ("TWO", 6)])
    robots = Robots()
    assert deliver_due(client=robots, now=T0).sent == 12
    assert robots.most_open == {"ONE": 1, "TWO": 1}
    assert robots.sent_to("ONE") == [f"ONE {i}" for i in range(6)]


def test_sent_at_is_when_the_robot_answered(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("SLOW", 3)])
    clock = Clock()
    dispatcher = Dispatcher(Robots(clock=clock, step=timedelta(seconds=10)), clock=clock)
    dispatcher.claim(50)
    dispatcher.drain()
    dispatcher.close()
    assert [r.sent_at for r in rows()] == [T0 + timedelta(seconds=10 * n) for n in (1, 2, 3)]


def test_a_workers_lease_is_renewed_while_it_holds_rows_and_lost_when_it_dies(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("LEASE", 2)])
    clock = Clock()
    holder = Dispatcher(Robots(), clock=clock)
    assert holder.claim(50) == 2 and {r.locked_until for r in rows()} == {T0 + timedelta(seconds=20)}
    clock.now = T0 + timedelta(seconds=15)
    holder.renew_if_due()
    assert {r.locked_until for r in rows()} == {T0 + timedelta(seconds=35)}
    assert claim_rows(T0 + timedelta(seconds=30), 50, DeliveryCounts()) == []  # still held: nobody else takes it
    holder.close()  # the worker dies without a word: 20 s after its last renewal the rows are free again
    taken = claim_rows(T0 + timedelta(seconds=36), 50, DeliveryCounts())
    assert len(taken) == 2


def test_a_robot_another_worker_is_sending_to_is_left_to_it(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("SHARED", 4)])
    first = claim_rows(T0, 1, DeliveryCounts(), per_robot=1)
    assert len(first) == 1
    assert claim_rows(T0, 50, DeliveryCounts()) == []  # in order and one at a time, across workers too


def test_stopping_gives_back_the_rows_not_started(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("STOP", 4)])
    dispatcher = Dispatcher(Robots(), clock=Clock())
    dispatcher.claim(50)
    dispatcher.stop()
    dispatcher.close()
    assert [(r.status, r.locked_until, r.attempts) for r in rows()] == [(DeliveryStatus.PENDING, None, 0)] * 4


def test_a_failing_robot_is_not_hammered(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("SICK", 5)])
    robots = Robots(fail={"SICK"})
    counts = deliver_due(client=robots, now=T0)
    assert len(robots.calls) == 1 and (counts.retried, counts.throttled) == (1, 4)


def test_a_failing_robots_rows_not_yet_claimed_wait_too(app, make_store, make_staff_channel):
    queue(make_store, make_staff_channel, [("SICK", 8)])
    robots = Robots(fail={"SICK"})
    dispatcher = Dispatcher(robots, clock=Clock())
    assert dispatcher.claim(50) == 5  # one worker holds at most 5 rows of one robot
    dispatcher.drain()
    assert dispatcher.claim(50) == 0  # the 3 it did not hold rest as long as the failed one
    dispatcher.close()
    assert len(robots.calls) == 1 and all(r.next_attempt_at >= T0 + timedelta(seconds=30) for r in rows())
