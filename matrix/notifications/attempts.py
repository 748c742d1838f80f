"""One attempt at one outbox row: read and check it (the database), call the robot (the network), save
what came of it (the database). The dispatcher runs the middle step in a thread, the others in its own.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from matrix.communities.models import Community, StaffChannel, mask_secret_url
from matrix.extensions import db
from matrix.notifications.claims import DeliveryCounts
from matrix.notifications.models import STAFF_KINDS, DeliveryStatus, Notification
from matrix.notifications.targets import Outcome, read_for_send, verdict
from matrix.notifications.wecom import RefusedRobotUrl, RobotResult

log = logging.getLogger(__name__)

REFUSED_URL = "robot URL refused: not a WeCom webhook"


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
    message: dict | None = None


def prepare(notification_id: int) -> _Attempt:
    """Read the row and check its target again, then end the transaction (no lock held while sending).

    Outcome SEND: `url` and `message` are what to send and `result` is None; else `result` says why not."""
    row = read_for_send(notification_id)
    checked = verdict(row)
    db.session.rollback()
    target_id = row.staff_channel_id if row.kind in STAFF_KINDS else row.community_id
    if checked.outcome != Outcome.SEND:
        return _Attempt(RobotResult(ok=False, permanent=True, error=checked.reason), checked.outcome, row.attempts,
                        row.kind, target_id)
    return _Attempt(None, Outcome.SEND, row.attempts, row.kind, target_id, checked.url, row.message)


def call(client, url: str, message: dict) -> RobotResult:
    """The network part: safe in any thread (no database, no app context)."""
    try:
        return client.send(url, message)
    except RefusedRobotUrl:
        return RobotResult(ok=False, permanent=True, error=REFUSED_URL)


def _values(attempt: _Attempt, notification_id: int, now: datetime, counts: DeliveryCounts) -> dict:
    """The row's new columns after this attempt (`now`: when the robot answered)."""
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
        values["next_attempt_at"] = now + timedelta(seconds=retry_wait(attempt, notification_id))
        counts.retried += 1
    return values


def retry_wait(attempt: _Attempt, notification_id: int) -> float:
    """Seconds until a transient failure is tried again (the robot's other rows wait as long)."""
    return backoff_seconds(attempt.attempts, notification_id, attempt.result.min_wait_s)


def is_transient(attempt: _Attempt) -> bool:
    """The robot failed for now (busy, down, too slow): its other rows should wait, not hammer it."""
    return attempt.outcome == Outcome.SEND and not attempt.result.ok and not attempt.result.permanent


def _flag_robot(attempt: _Attempt) -> None:
    """The robot refused for good: flag its staff channel or group for a person, until the URL is fixed."""
    error = attempt.result.error[:300]
    model = StaffChannel if attempt.kind in STAFF_KINDS else Community
    db.session.execute(update(model).where(model.id == attempt.target_id).values(robot_error=error)
                       .execution_options(synchronize_session=False))
    log.error("robot %s of %s %s: %s", mask_secret_url(attempt.url), model.__tablename__, attempt.target_id, error)


def save(notification_id: int, lease: datetime, attempt: _Attempt, now: datetime, counts: DeliveryCounts,
         *, commit: bool = True) -> bool:
    """Store what came of the attempt, if this worker still holds the row; True when it did (commits unless
    told not to: the dispatcher saves every answer that came in together in one transaction)."""
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
    if commit:
        db.session.commit()
    return owned.rowcount == 1


def _record(notification_id: int, lease: datetime, now: datetime, client, counts: DeliveryCounts) -> None:
    """One row, start to end, in this thread."""
    attempt = prepare(notification_id)
    if attempt.outcome == Outcome.SEND:
        attempt.result = call(client, attempt.url, attempt.message)
    save(notification_id, lease, attempt, now, counts)
