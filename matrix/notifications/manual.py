"""What HQ does by hand on the deliveries page: retry a failed delivery, clear a robot's flag. Audited."""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.communities.models import Community, StaffChannel
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow
from matrix.notifications.models import STAFF_KINDS, DeliveryStatus, Notification
from matrix.notifications.targets import HELD_REASON
from matrix.transaction import transactional


def _staff_target(notification: Notification) -> tuple[DeliveryStatus, int | None]:
    """Staff messages go to the store's confirmed staff channel, or wait on hold for one."""
    channel = db.session.scalar(select(StaffChannel).where(StaffChannel.store_id == notification.store_id))
    if channel is not None and channel.is_confirmed:
        return DeliveryStatus.PENDING, channel.id
    return DeliveryStatus.HELD, channel.id if channel else None


@transactional
def retry_notification(notification: Notification, *, actor: User, now: datetime | None = None) -> Notification:
    """Put a failed delivery back in the queue: a staff message to the store's staff channel (held until one
    is confirmed), a customer post to its group while the group's robot is confirmed and the post not too late."""
    if notification.status != DeliveryStatus.FAILED:
        raise DomainError(_("Only a failed delivery can be retried."))
    now = now or utcnow()
    before = {"status": "failed", "staff_channel_id": notification.staff_channel_id, "attempts": notification.attempts}
    if notification.kind in STAFF_KINDS:
        status, notification.staff_channel_id = _staff_target(notification)
    else:
        community = db.session.get(Community, notification.community_id) if notification.community_id else None
        if community is None or not community.robot_confirmed:
            raise DomainError(_("This post's group has no confirmed customer robot any more."))
        if notification.expires_at is not None and notification.expires_at <= now:
            raise DomainError(_("Too late: the session this post announces has begun or is over."))
        status = DeliveryStatus.PENDING
    notification.status, notification.attempts, notification.locked_until = status, 0, None
    notification.next_attempt_at = now
    notification.last_error = HELD_REASON if status == DeliveryStatus.HELD else notification.last_error
    after = {"status": status.value, "staff_channel_id": notification.staff_channel_id, "attempts": 0}
    audit.record(actor, "retry", "notification", entity_id=notification.id, store_id=notification.store_id,
                 summary=notification.last_error or "", changes=audit.diff(before, after))
    db.session.commit()
    return notification


def _requeue(column, target_id: int, now: datetime) -> int:
    result = db.session.execute(
        update(Notification).where(column == target_id, Notification.status == DeliveryStatus.FAILED)
        .values(status=DeliveryStatus.PENDING, attempts=0, locked_until=None, next_attempt_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


@transactional
def clear_robot_error(community: Community, *, actor: User, requeue: bool = False,
                      now: datetime | None = None) -> int:
    """Clear a group's robot flag once HQ fixed it; optionally requeue its failed deliveries."""
    if not community.robot_error:
        raise DomainError(_("This group's robot is not flagged."))
    old, community.robot_error = community.robot_error, None
    requeued = _requeue(Notification.community_id, community.id, now or utcnow()) if requeue else 0
    audit.record(actor, "update", "community", entity_id=community.id, store_id=community.store_id,
                 summary=community.name, changes={"robot_error": [old, None], "requeued": [0, requeued]})
    db.session.commit()
    return requeued


@transactional
def clear_staff_flag(channel: StaffChannel, *, actor: User, requeue: bool = False,
                     now: datetime | None = None) -> int:
    """Clear a staff channel's robot flag once fixed; optionally requeue its failed deliveries."""
    if not channel.robot_error:
        raise DomainError(_("This staff channel's robot is not flagged."))
    old, channel.robot_error = channel.robot_error, None
    requeued = _requeue(Notification.staff_channel_id, channel.id, now or utcnow()) if requeue else 0
    audit.record(actor, "update", "staff_channel", entity_id=channel.id, store_id=channel.store_id,
                 summary=_("Robot flag cleared."), changes={"robot_error": [old, None], "requeued": [0, requeued]})
    db.session.commit()
    return requeued
