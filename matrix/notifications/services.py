"""The robot outbox: rows written in the transaction that caused them, delivered by `flask worker`.

A row that could not be addressed (a lead whose store has no group robot, say) is written
FAILED with its reason and attempts 0: HQ sees it on the deliveries page as "not notified"
and can retry it by hand once a robot is there.

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
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, text, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.communities.models import Community, mask_secret_url
from matrix.communities.services import current_community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.notifications.models import DeliveryStatus, Notification
from matrix.models import utcnow
from matrix.notifications.wecom import RefusedRobotUrl, RobotResult

log = logging.getLogger(__name__)

# Reasons a lead got no robot message; the deliveries page translates them.
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

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.throttled


def _due(now: datetime):
    return and_(Notification.status == DeliveryStatus.PENDING, Notification.next_attempt_at <= now,
                or_(Notification.locked_until.is_(None), Notification.locked_until < now))


def _robot_load(url: str, now: datetime) -> tuple[int, datetime | None]:
    """Messages sent to this robot in the last minute plus those in flight, and the oldest send."""
    window = now - timedelta(seconds=60)
    counted = or_(and_(Notification.status == DeliveryStatus.SENT, Notification.sent_at > window),
                  and_(Notification.status == DeliveryStatus.PENDING, Notification.locked_until > now))
    used, oldest = db.session.execute(
        select(func.count(), func.min(Notification.sent_at)).select_from(Notification)
        .join(Community, Community.id == Notification.community_id)
        .where(Community.robot_webhook_url == url, counted)).one()
    return used, oldest


def _claim(now: datetime, limit: int, counts: DeliveryCounts) -> list[tuple[int, datetime]]:
    """Take up to `limit` due rows for this worker, at most a minute's budget per robot; commits."""
    lease = now + timedelta(seconds=current_app.config.get("WORKER_LEASE_S", 300))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    query = (select(Notification.id, Community.robot_webhook_url)
             .outerjoin(Community, Community.id == Notification.community_id)
             .where(_due(now)).order_by(Notification.next_attempt_at, Notification.id).limit(limit))
    if postgres:
        query = query.with_for_update(skip_locked=True, of=Notification)
    budgets: dict[str, list] = {}  # robot URL -> [messages left this minute, when a slot frees]
    claimed = []
    for notification_id, url in db.session.execute(query).all():
        if url and url not in budgets:
            used, oldest = _robot_load(url, now)
            # In-flight rows are about to be sent: count them as sent now.
            frees_at = min(oldest or now, now) + timedelta(seconds=61)
            budgets[url] = [ROBOT_PER_MINUTE - used, max(frees_at, now + timedelta(seconds=1))]
        if url and budgets[url][0] <= 0:
            # At the robot's limit: come back when the oldest send leaves the minute.
            _guarded(notification_id, now, next_attempt_at=budgets[url][1])
            counts.throttled += 1
            continue
        if _guarded(notification_id, now, locked_until=lease, attempts=Notification.attempts + 1):
            claimed.append((notification_id, lease))
            if url:
                budgets[url][0] -= 1
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


def _send(notification_id: int, client) -> tuple[RobotResult, int, int | None, str]:
    """Read the row, end the transaction, then call the robot (no lock held while waiting on it)."""
    row = db.session.execute(select(Notification.message, Notification.attempts, Community.id,
                                    Community.robot_webhook_url)
                             .outerjoin(Community, Community.id == Notification.community_id)
                             .where(Notification.id == notification_id)).one()
    db.session.rollback()
    message, attempts, community_id, url = row
    if not url:
        return RobotResult(ok=False, permanent=True, error=NO_ROBOT), attempts, None, ""
    try:
        return client.send(url, message), attempts, community_id, url
    except RefusedRobotUrl:
        return RobotResult(ok=False, permanent=True, error=REFUSED_URL), attempts, community_id, url


def _record(notification_id: int, lease: datetime, now: datetime, client, counts: DeliveryCounts) -> None:
    result, attempts, community_id, url = _send(notification_id, client)
    values: dict = {"locked_until": None, "last_error": result.error[:300] or None}
    if result.ok:
        values.update(status=DeliveryStatus.SENT, sent_at=now)
        counts.sent += 1
    elif result.permanent or attempts >= current_app.config.get("WECOM_MAX_ATTEMPTS", 12):
        if not result.permanent:
            values["last_error"] = f"gave up after {attempts} attempts: {result.error}"[:300]
        values["status"] = DeliveryStatus.FAILED
        counts.failed += 1
    else:
        wait = backoff_seconds(attempts, notification_id, result.min_wait_s)
        values["next_attempt_at"] = now + timedelta(seconds=wait)
        counts.retried += 1
    owned = db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.status == DeliveryStatus.PENDING,
        Notification.locked_until == lease).values(**values).execution_options(synchronize_session=False))
    if owned.rowcount != 1:
        log.warning("notification %s: lease lost before the result was saved", notification_id)
    if result.permanent and community_id and result.error != NO_ROBOT:
        # The group's robot needs a person: flag it for HQ until the URL is fixed.
        db.session.execute(update(Community).where(Community.id == community_id)
                           .values(robot_error=result.error[:300]).execution_options(synchronize_session=False))
        log.error("robot %s of community %s: %s", mask_secret_url(url), community_id, result.error)
    db.session.commit()


def deliver_due(*, client, now: datetime | None = None, limit: int = 50) -> DeliveryCounts:
    """Send the due outbox rows to their robots; safe with several workers at once. Commits."""
    now = now or utcnow()
    counts = DeliveryCounts()
    for notification_id, lease in _claim(now, limit, counts):
        _record(notification_id, lease, now, client, counts)
    return counts


def _robot_of_store(store_id: int | None) -> Community | None:
    community = current_community(store_id) if store_id else None
    return community if community and community.robot_webhook_url else None


def retry_notification(notification: Notification, *, actor: User, now: datetime | None = None) -> Notification:
    """Put a failed delivery back in the queue, to the store's current group if its own has no robot."""
    if notification.status != DeliveryStatus.FAILED:
        raise DomainError(_("Only a failed delivery can be retried."))
    community = db.session.get(Community, notification.community_id) if notification.community_id else None
    if community is None or not community.robot_webhook_url:
        community = _robot_of_store(notification.store_id)
        if community is None:
            raise DomainError(_("The store still has no group with a robot that takes new members: "
                                "add a robot to a group first, then retry."))
    before = {"status": "failed", "community_id": notification.community_id, "attempts": notification.attempts}
    notification.community_id = community.id
    notification.status = DeliveryStatus.PENDING
    notification.attempts = 0
    notification.next_attempt_at = now or utcnow()
    notification.locked_until = None
    after = {"status": "pending", "community_id": community.id, "attempts": 0}
    audit.record(actor, "retry", "notification", entity_id=notification.id, store_id=notification.store_id,
                 summary=notification.last_error or "", changes=audit.diff(before, after))
    db.session.commit()
    return notification


def clear_robot_error(community: Community, *, actor: User, requeue: bool = False,
                      now: datetime | None = None) -> int:
    """Clear a group's robot flag once HQ fixed it; optionally requeue its failed deliveries."""
    if not community.robot_error:
        raise DomainError(_("This group's robot is not flagged."))
    old = community.robot_error
    community.robot_error = None
    requeued = 0
    if requeue:
        result = db.session.execute(
            update(Notification).where(Notification.community_id == community.id,
                                       Notification.status == DeliveryStatus.FAILED)
            .values(status=DeliveryStatus.PENDING, attempts=0, locked_until=None, next_attempt_at=now or utcnow())
            .execution_options(synchronize_session=False))
        requeued = result.rowcount
    audit.record(actor, "update", "community", entity_id=community.id, store_id=community.store_id,
                 summary=community.name, changes={"robot_error": [old, None], "requeued": [0, requeued]})
    db.session.commit()
    return requeued
