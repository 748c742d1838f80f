"""Where an outbox row goes, checked again at send time: staff rows to a confirmed staff channel only,
customer rows to a confirmed customer robot only, never a robot that is both.

The writers already choose the right target; this is the second lock. A staff row whose channel is not
(or no longer) confirmed goes back on hold; a customer row whose group, session or store no longer wants
it is withdrawn; a row whose robot also serves the other audience fails for a person to look at.
"""
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from matrix.broadcasts.models import StorePosts
from matrix.communities.models import Community, StaffChannel
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.settings import live_settings
from matrix.live.timing import in_quiet_hours, local_moment, parse_clock
from matrix.notifications.models import STAFF_KINDS, Notification

# Reasons stored in last_error; the deliveries page translates them.
HELD_REASON = "held: no confirmed staff channel"
NO_GROUP_ROBOT = "withdrawn: the group has no confirmed customer robot"
SESSION_OFF = "withdrawn: the session was cancelled or is over"
POSTS_OFF = "withdrawn: the store switched its community posts off"
TOO_LATE = "withdrawn: too late to post"
MOVED = "withdrawn: the session or its trailer changed"
BOTH_AUDIENCES = "refused: this robot serves staff and customers"
OTHER_STORE = "refused: the staff channel belongs to another store"

# A row's robot address: its staff channel's or its group's (the CHECK constraint lets a row name only one).
TARGET_URL = func.coalesce(StaffChannel.robot_webhook_url, Community.robot_webhook_url)


def with_targets(query):
    """Join a query over notifications to both kinds of target."""
    return (query.outerjoin(StaffChannel, StaffChannel.id == Notification.staff_channel_id)
            .outerjoin(Community, Community.id == Notification.community_id))


class Outcome(enum.Enum):
    SEND = "send"
    HOLD = "hold"          # wait for a confirmed staff channel (status held)
    WITHDRAW = "withdraw"  # no longer wanted (status cancelled)
    REFUSE = "refuse"      # never sent: a person must look (status failed)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    url: str = ""
    reason: str = ""


def _robot_of_other_audience(url: str, *, staff: bool) -> bool:
    if staff:
        return db.session.scalar(select(Community.id).where(Community.robot_webhook_url == url).limit(1)) is not None
    return db.session.scalar(select(StaffChannel.id).where(StaffChannel.robot_webhook_url == url).limit(1)) is not None


def _staff_verdict(row) -> Verdict:
    if not row.staff_url or row.confirmed_at is None:
        return Verdict(Outcome.HOLD, reason=HELD_REASON)
    if row.staff_store != row.store_id:
        return Verdict(Outcome.REFUSE, reason=OTHER_STORE)
    if _robot_of_other_audience(row.staff_url, staff=True):
        return Verdict(Outcome.REFUSE, reason=BOTH_AUDIENCES)
    return Verdict(Outcome.SEND, url=row.staff_url)


def _customer_verdict(row) -> Verdict:
    if row.lead_id is not None:
        return Verdict(Outcome.REFUSE, reason=BOTH_AUDIENCES)  # lead data never goes to customers
    if not row.group_url or row.robot_confirmed_at is None or not row.group_active:
        return Verdict(Outcome.WITHDRAW, reason=NO_GROUP_ROBOT)
    if _robot_of_other_audience(row.group_url, staff=False):
        return Verdict(Outcome.REFUSE, reason=BOTH_AUDIENCES)
    if row.session_id is not None:
        status = db.session.scalar(select(LiveSession.status).where(LiveSession.id == row.session_id))
        if status not in (SessionStatus.SCHEDULED, SessionStatus.LIVE):
            return Verdict(Outcome.WITHDRAW, reason=SESSION_OFF)
    if db.session.scalar(select(StorePosts.community_posts).where(StorePosts.store_id == row.store_id)) is False:
        return Verdict(Outcome.WITHDRAW, reason=POSTS_OFF)
    return Verdict(Outcome.SEND, url=row.group_url)


def read_for_send(notification_id: int):
    """The row with what its target says now: one query."""
    return db.session.execute(with_targets(select(
        Notification.message, Notification.attempts, Notification.kind, Notification.store_id, Notification.lead_id,
        Notification.session_id, Notification.community_id, Notification.staff_channel_id,
        Community.robot_webhook_url.label("group_url"), Community.robot_confirmed_at, Community.active.label("group_active"),
        StaffChannel.robot_webhook_url.label("staff_url"), StaffChannel.confirmed_at,
        StaffChannel.store_id.label("staff_store"))).where(Notification.id == notification_id)).one()


def verdict(row) -> Verdict:
    """Send, hold, withdraw or refuse the row read by read_for_send."""
    return _staff_verdict(row) if row.kind in STAFF_KINDS else _customer_verdict(row)


@dataclass(frozen=True)
class QuietHours:
    """The chain's quiet hours; customer posts are never sent inside them."""

    start: object
    end: object
    zone: str

    @classmethod
    def current(cls, zone: str) -> "QuietHours":
        settings = live_settings()
        return cls(parse_clock(settings.quiet_start), parse_clock(settings.quiet_end), zone)

    def ends_after(self, now: datetime) -> datetime | None:
        """When the quiet hours holding `now` end; None when `now` is not quiet."""
        local = now.astimezone(ZoneInfo(self.zone))
        if not in_quiet_hours(local.time(), self.start, self.end):
            return None
        end = local_moment(local.date(), self.end, self.zone)
        return end if end > local else end + timedelta(days=1)
