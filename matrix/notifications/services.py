"""The robot outbox: rows written in the transaction that caused them, delivered by `flask worker`.

Each row's kind fixes its audience: lead alerts, reminders and digests go to the store's confirmed staff
channel, trailer and "we are live" posts to a customer group's confirmed robot (targets.py checks both again
just before sending). A staff row of a store without a confirmed staff channel is HELD: never sent, never
lost, released when the channel is confirmed. Customer posts wait for their time (`next_attempt_at`), never
go out in the quiet hours (they wait for the end) and are withdrawn when too late (`expires_at`).

Workers claim due rows with a guarded UPDATE (status pending, due, lease free): only the
worker whose UPDATE changed the row sends it, on SQLite and PostgreSQL alike. On PostgreSQL
claims also take an advisory lock and skip rows locked by others (FOR UPDATE SKIP LOCKED),
which keeps the per-robot throttle exact across workers. A worker that dies mid-send frees
its rows when the lease ends; such a row may then be sent twice (at least once, never lost).
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, text, update

from matrix.chain import chain_zone
from matrix.communities.models import Community, StaffChannel, mask_secret_url
from matrix.extensions import db
from matrix.models import utcnow
from matrix.notifications.models import CUSTOMER_KINDS, STAFF_KINDS, DeliveryStatus, Notification
from matrix.notifications.targets import TARGET_URL, TOO_LATE, Outcome, QuietHours, read_for_send, verdict, with_targets
from matrix.notifications.wecom import RefusedRobotUrl, RobotResult

log = logging.getLogger(__name__)

# Reasons rows written before staff channels existed carry (a lead the store's groups could not be told of);
# the deliveries page still translates them.
NO_GROUP = "no group"
GROUPS_FULL = "all groups full"
NO_ROBOT = "no robot"
UNNOTIFIED_REASONS = (NO_GROUP, GROUPS_FULL, NO_ROBOT)
REFUSED_URL = "robot URL refused: not a WeCom webhook"
ROBOT_PER_MINUTE = 20  # WeCom: at most 20 messages per robot per minute
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


def _robot_loads(urls: set[str], now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Per robot: messages sent in the last minute plus those in flight, and the oldest send (one query)."""
    if not urls:
        return {}
    window = now - timedelta(seconds=60)
    counted = or_(and_(Notification.status == DeliveryStatus.SENT, Notification.sent_at > window),
                  and_(Notification.status == DeliveryStatus.PENDING, Notification.locked_until > now))
    rows = db.session.execute(with_targets(
        select(TARGET_URL, func.count(), func.min(Notification.sent_at)).select_from(Notification))
        .where(counted, TARGET_URL.in_(sorted(urls))).group_by(TARGET_URL)).all()
    return {url: (used, oldest) for url, used, oldest in rows}


class _Claim:
    """One claim round's budgets: a minute's messages per robot, and the quiet hours for customer posts."""

    def __init__(self, now: datetime, counts: DeliveryCounts):
        self.now, self.counts = now, counts
        self.budgets: dict[str, list] = {}  # robot URL -> [messages left this minute, when a slot frees]
        self.loads: dict[str, tuple] = {}
        self._quiet_end: list = []          # read once, when the round meets its first customer post

    def read_loads(self, urls: set[str]) -> None:
        """The robots of this round's rows: their last minute, read at once."""
        self.loads = _robot_loads(urls, self.now)

    def load(self, url: str) -> None:
        used, oldest = self.loads.get(url, (0, None))
        # In-flight rows are about to be sent: count them as sent now.
        frees_at = min(oldest or self.now, self.now) + timedelta(seconds=61)
        self.budgets[url] = [ROBOT_PER_MINUTE - used, max(frees_at, self.now + timedelta(seconds=1))]

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
    lease = now + timedelta(seconds=current_app.config.get("WORKER_LEASE_S", 300))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    query = (with_targets(select(Notification.id, TARGET_URL, Notification.kind, Notification.expires_at))
             .where(_due(now)).order_by(Notification.next_attempt_at, Notification.id).limit(limit))
    if postgres:
        query = query.with_for_update(skip_locked=True, of=Notification)
    round_ = _Claim(now, counts)
    due = db.session.execute(query).all()
    round_.read_loads({url for _id, url, _kind, _expires in due if url})
    claimed = []
    for notification_id, url, kind, expires_at in due:
        if round_.holds_back(notification_id, url, kind, expires_at):
            continue
        if _guarded(notification_id, now, locked_until=lease, attempts=Notification.attempts + 1):
            claimed.append((notification_id, lease))
            if url:
                round_.budgets[url][0] -= 1
    db.session.commit()
    return claimed


def _guarded(notification_id: int, now: datetime, **values) -> bool:
    """Change a row only if it is still due and free: True means this worker owns the change."""
    result = db.session.execute(update(Notification).where(Notification.id == notification_id, _due(now))
                                .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def backoff_seconds(attempts: int, notification_id: int, min_wait: float = 0) -> float:
    """Exponential wait after the n-th failed attempt, spread a little so a backlog does not stampede."""
    config = current_app.config
    base, cap = config.get("WECOM_BACKOFF_BASE_S", 30), config.get("WECOM_BACKOFF_CAP_S", 3600)
    # A rate limit's minimum wait doubles too: without that, a row whose spread is zero waited 60 s every time.
    delay = min(cap, max(base, min_wait) * 2 ** max(attempts - 1, 0)) * (1 + (notification_id % 5) / 20)
    return max(min(delay, cap), min_wait)


@dataclass
class _Attempt:
    result: RobotResult | None  # None: not sent, `outcome` says why
    outcome: Outcome
    attempts: int
    kind: object = None
    target_id: int | None = None
    url: str = ""


def _send(notification_id: int, client) -> _Attempt:
    """Read the row and check its target, end the transaction, then call the robot (no lock held meanwhile)."""
    row = read_for_send(notification_id)
    checked = verdict(row)
    db.session.rollback()
    target_id = row.staff_channel_id if row.kind in STAFF_KINDS else row.community_id
    if checked.outcome != Outcome.SEND:
        return _Attempt(RobotResult(ok=False, permanent=True, error=checked.reason), checked.outcome, row.attempts,
                        row.kind, target_id)
    try:
        result = client.send(checked.url, row.message)
    except RefusedRobotUrl:
        result = RobotResult(ok=False, permanent=True, error=REFUSED_URL)
    return _Attempt(result, Outcome.SEND, row.attempts, row.kind, target_id, checked.url)


def _values(attempt: _Attempt, notification_id: int, now: datetime, counts: DeliveryCounts) -> dict:
    """The row's new columns after this attempt."""
    result = attempt.result
    values: dict = {"locked_until": None, "last_error": result.error[:300] or None}
    if attempt.outcome == Outcome.HOLD:
        values.update(status=DeliveryStatus.HELD, attempts=max(attempt.attempts - 1, 0))  # not an attempt
        counts.held += 1
    elif attempt.outcome == Outcome.WITHDRAW:
        values["status"] = DeliveryStatus.CANCELLED
        counts.withdrawn += 1
    elif result.ok:
        values.update(status=DeliveryStatus.SENT, sent_at=now)
        counts.sent += 1
    elif result.permanent or attempt.attempts >= current_app.config.get("WECOM_MAX_ATTEMPTS", 12):
        if not result.permanent:
            values["last_error"] = f"gave up after {attempt.attempts} attempts: {result.error}"[:300]
        values["status"] = DeliveryStatus.FAILED
        counts.failed += 1
    else:
        wait = backoff_seconds(attempt.attempts, notification_id, result.min_wait_s)
        values["next_attempt_at"] = now + timedelta(seconds=wait)
        counts.retried += 1
    return values


def _flag_robot(attempt: _Attempt) -> None:
    """The robot refused for good: flag its staff channel or group for a person, until the URL is fixed."""
    error = attempt.result.error[:300]
    model = StaffChannel if attempt.kind in STAFF_KINDS else Community
    db.session.execute(update(model).where(model.id == attempt.target_id).values(robot_error=error)
                       .execution_options(synchronize_session=False))
    log.error("robot %s of %s %s: %s", mask_secret_url(attempt.url), model.__tablename__, attempt.target_id, error)


def _record(notification_id: int, lease: datetime, now: datetime, client, counts: DeliveryCounts) -> None:
    attempt = _send(notification_id, client)
    values = _values(attempt, notification_id, now, counts)
    owned = db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.status == DeliveryStatus.PENDING,
        Notification.locked_until == lease).values(**values).execution_options(synchronize_session=False))
    if owned.rowcount != 1:
        log.warning("notification %s: lease lost before the result was saved", notification_id)
    if attempt.outcome == Outcome.SEND and attempt.result.permanent and attempt.target_id:
        _flag_robot(attempt)
    elif attempt.outcome == Outcome.REFUSE:
        log.error("notification %s not sent: %s", notification_id, attempt.result.error)
    db.session.commit()


def deliver_due(*, client, now: datetime | None = None, limit: int = 50) -> DeliveryCounts:
    """Send the due outbox rows to their robots; safe with several workers at once. Commits."""
    now = now or utcnow()
    counts = DeliveryCounts()
    for notification_id, lease in _claim(now, limit, counts):
        _record(notification_id, lease, now, client, counts)
    return counts
