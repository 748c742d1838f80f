"""Claiming outbox rows for one worker: due, free, within each robot's minute, one worker per robot.

A claim is a guarded UPDATE (status pending, due, lease free): only the worker whose UPDATE changed the
row sends it, on SQLite and PostgreSQL alike. On PostgreSQL claims also take an advisory lock and skip
rows locked by others (FOR UPDATE SKIP LOCKED), which keeps the per-robot throttle exact across workers.
A robot with rows in another worker's hands is left to that worker, so one robot's messages go one at a
time and in order. The per-robot limit counts by the robot's clock: sent_at is when the robot answered,
and the window allows ROBOT_PER_MINUTE (18) against WeCom's 20, a margin for clocks and failed calls.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, text, update

from matrix.chain import chain_zone
from matrix.extensions import db
from matrix.notifications.models import CUSTOMER_KINDS, DeliveryStatus, Notification
from matrix.notifications.targets import TARGET_URL, TOO_LATE, QuietHours, with_targets

ROBOT_PER_MINUTE = 18  # WeCom allows 20 per robot per minute; 2 spare for clock skew and failed calls
CLAIM_LOCK_KEY = 0x5704E  # PostgreSQL advisory lock serialising claims


@dataclass
class DeliveryCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    throttled: int = 0
    held: int = 0        # a staff row whose channel is no longer confirmed: back on hold
    withdrawn: int = 0   # a customer post no longer wanted, or too late
    deferred: int = 0    # a customer post due in the quiet hours: waits for their end

    @property
    def handled(self) -> int:
        return (self.sent + self.retried + self.failed + self.throttled + self.held + self.withdrawn
                + self.deferred)

    def line(self) -> str:
        """What one round did, for the worker's output."""
        text = (f"sent {self.sent}, retry later {self.retried}, failed {self.failed}, "
                f"throttled {self.throttled}")
        extra = [f"{name} {getattr(self, name)}" for name in ("held", "withdrawn", "deferred") if getattr(self, name)]
        return ", ".join([text, *extra])


def _due(now: datetime):
    return and_(Notification.status == DeliveryStatus.PENDING, Notification.next_attempt_at <= now,
                or_(Notification.locked_until.is_(None), Notification.locked_until < now))


def _robot_loads(urls: set[str], now: datetime, mine: frozenset[int]) -> dict[str, tuple[int, datetime | None, int]]:
    """Per robot: messages sent in the last minute plus those in flight, the oldest send, and the rows in
    flight with another worker (one query)."""
    if not urls:
        return {}
    window = now - timedelta(seconds=60)
    in_flight = and_(Notification.status == DeliveryStatus.PENDING, Notification.locked_until > now)
    counted = or_(and_(Notification.status == DeliveryStatus.SENT, Notification.sent_at > window), in_flight)
    others = func.sum(case((and_(in_flight, Notification.id.not_in(sorted(mine))), 1), else_=0))
    rows = db.session.execute(with_targets(
        select(TARGET_URL, func.count(), func.min(Notification.sent_at), others).select_from(Notification))
        .where(counted, TARGET_URL.in_(sorted(urls))).group_by(TARGET_URL)).all()
    return {url: (used, oldest, int(foreign or 0)) for url, used, oldest, foreign in rows}


class _Claim:
    """One claim round's budgets: a minute's messages per robot, and the quiet hours for customer posts."""

    def __init__(self, now: datetime, counts: DeliveryCounts, mine: frozenset[int] = frozenset(),
                 held: dict[str, int] | None = None, per_robot: int | None = None):
        self.now, self.counts, self.mine, self.held, self.per_robot = now, counts, mine, held or {}, per_robot
        self.budgets: dict[str, list] = {}  # robot URL -> [messages left this minute, when a slot frees]
        self.loads: dict[str, tuple] = {}
        self._quiet_end: list = []          # read once, when the round meets its first customer post

    def read_loads(self, urls: set[str]) -> None:
        """The robots of this round's rows: their last minute, read at once."""
        self.loads = _robot_loads(urls, self.now, self.mine)

    def load(self, url: str) -> None:
        used, oldest, _foreign = self.loads.get(url, (0, None, 0))
        # In-flight rows are about to be sent: count them as sent now.
        frees_at = min(oldest or self.now, self.now) + timedelta(seconds=61)
        self.budgets[url] = [ROBOT_PER_MINUTE - used, max(frees_at, self.now + timedelta(seconds=1))]

    def taken_elsewhere(self, url: str | None) -> bool:
        """Another worker is sending to this robot, or this one holds enough of its rows already."""
        if not url:
            return False
        full = self.per_robot is not None and self.held.get(url, 0) >= self.per_robot
        return full or self.loads.get(url, (0, None, 0))[2] > 0

    def quiet_end(self) -> datetime | None:
        if not self._quiet_end:
            self._quiet_end.append(QuietHours.current(chain_zone()).ends_after(self.now))
        return self._quiet_end[0]

    def holds_back(self, notification_id: int, url: str | None, kind, expires_at) -> bool:
        """Withdraw a late post, defer one in the quiet hours, or throttle a busy robot: True when it did."""
        now = self.now
        if kind in CUSTOMER_KINDS:
            if expires_at is not None and expires_at <= now:
                if _guarded(notification_id, now, status=DeliveryStatus.CANCELLED, last_error=TOO_LATE):
                    self.counts.withdrawn += 1
                return True
            if (end := self.quiet_end()) is not None:
                if _guarded(notification_id, now, next_attempt_at=end):
                    self.counts.deferred += 1
                return True
        if url and url not in self.budgets:
            self.load(url)
        if url and self.budgets[url][0] <= 0:
            # At the robot's limit: come back when the oldest send leaves the minute.
            _guarded(notification_id, now, next_attempt_at=self.budgets[url][1])
            self.counts.throttled += 1
            return True
        return False


def _claim(now: datetime, limit: int, counts: DeliveryCounts) -> list[tuple[int, datetime]]:
    """Take up to `limit` due rows for this worker, at most a minute's budget per robot; commits."""
    return [(row_id, lease) for row_id, lease, _url in claim_rows(now, limit, counts)]


def claim_rows(now: datetime, limit: int, counts: DeliveryCounts, *, mine: frozenset[int] = frozenset(),
               held: dict[str, int] | None = None, per_robot: int | None = None
               ) -> list[tuple[int, datetime, str | None]]:
    """_claim with each row's robot, skipping robots another worker is sending to (`mine`: the rows this
    worker holds; `held`: how many per robot, up to `per_robot`). Rows come in send order. Commits."""
    lease = now + timedelta(seconds=current_app.config.get("WORKER_LEASE_S", 20))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    query = (with_targets(select(Notification.id, TARGET_URL, Notification.kind, Notification.expires_at))
             .where(_due(now)).order_by(Notification.next_attempt_at, Notification.id).limit(limit))
    if postgres:
        query = query.with_for_update(skip_locked=True, of=Notification)
    round_ = _Claim(now, counts, mine, dict(held or {}), per_robot)
    due = db.session.execute(query).all()
    round_.read_loads({url for _id, url, _kind, _expires in due if url})
    claimed = []
    for notification_id, url, kind, expires_at in due:
        if round_.taken_elsewhere(url) or round_.holds_back(notification_id, url, kind, expires_at):
            continue
        if _guarded(notification_id, now, locked_until=lease, attempts=Notification.attempts + 1):
            claimed.append((notification_id, lease, url))
            if url:
                round_.budgets[url][0] -= 1
                round_.held[url] = round_.held.get(url, 0) + 1
    db.session.commit()
    return claimed


def _guarded(notification_id: int, now: datetime, **values) -> bool:
    """Change a row only if it is still due and free: True means this worker owns the change."""
    result = db.session.execute(update(Notification).where(Notification.id == notification_id, _due(now))
                                .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1




def renew(ids: list[int], old: datetime, new: datetime) -> set[int]:
    """Move this worker's lease on `ids` from `old` to `new`; the ids still held (commits)."""
    if not ids:
        return set()
    db.session.execute(update(Notification).where(
        Notification.id.in_(ids), Notification.status == DeliveryStatus.PENDING, Notification.locked_until == old)
        .values(locked_until=new).execution_options(synchronize_session=False))
    kept = set(db.session.scalars(select(Notification.id).where(Notification.id.in_(ids),
                                                                 Notification.locked_until == new)))
    db.session.commit()
    return kept


def release(ids: list[int], lease: datetime, *, not_before: datetime | None = None) -> int:
    """Give back claimed rows unsent (a stop, a robot that failed): free at once or from `not_before` (commits)."""
    if not ids:
        return 0
    values = {"locked_until": None, "attempts": Notification.attempts - 1}  # no call was made for them
    if not_before is not None:
        values["next_attempt_at"] = func.greatest(Notification.next_attempt_at, not_before) \
            if db.session.get_bind().dialect.name == "postgresql" else not_before
    result = db.session.execute(update(Notification).where(
        Notification.id.in_(ids), Notification.status == DeliveryStatus.PENDING, Notification.locked_until == lease)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def rest_robot(url: str, until: datetime, now: datetime) -> int:
    """A robot failed for now: none of its due rows (in no worker's hands) is tried before `until` (no commit).

    Without this a failing robot's other rows, each due on its own, would each call it once more."""
    free = or_(Notification.locked_until.is_(None), Notification.locked_until < now)
    ids = [row_id for (row_id,) in db.session.execute(with_targets(select(Notification.id)).where(
        TARGET_URL == url, Notification.status == DeliveryStatus.PENDING, free, Notification.next_attempt_at < until))]
    if ids:
        db.session.execute(update(Notification).where(Notification.id.in_(ids), free).values(next_attempt_at=until)
                           .execution_options(synchronize_session=False))
    return len(ids)
