"""The outbox of robot messages: written in the transaction that caused them, delivered by the worker.

Every row has a kind, and the kind fixes its audience: staff kinds go to the store's staff channel only,
customer kinds to a community's robot only. A CHECK constraint keeps a staff row from ever naming a
community (and a customer row from naming a lead or a staff channel), whatever code writes it.
"""
import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from matrix.models import Base, UTCDateTime, enum_column, utcnow


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    HELD = "held"            # waits for a confirmed staff channel; the worker never sends it
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # withdrawn before it was sent (a moved or cancelled session, posts switched off)


class NotificationKind(enum.StrEnum):
    LEAD_ALERT = "lead_alert"
    LEAD_REMINDER = "lead_reminder"
    DIGEST = "digest"
    TRAILER_POST = "trailer_post"
    LIVE_NOW = "live_now"


class Audience(enum.StrEnum):
    STAFF = "staff"
    CUSTOMERS = "customers"


STAFF_KINDS = (NotificationKind.LEAD_ALERT, NotificationKind.LEAD_REMINDER, NotificationKind.DIGEST)
CUSTOMER_KINDS = (NotificationKind.TRAILER_POST, NotificationKind.LIVE_NOW)


def _listed(kinds) -> str:
    return ", ".join(f"'{k.value}'" for k in kinds)


def audience_of(kind: NotificationKind) -> Audience:
    return Audience.STAFF if kind in STAFF_KINDS else Audience.CUSTOMERS


class Notification(Base):
    """Outbox row written with its cause in one transaction; a worker delivers it to its robot."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"(kind IN ({_listed(STAFF_KINDS)}) AND community_id IS NULL) OR "
                        f"(kind IN ({_listed(CUSTOMER_KINDS)}) AND staff_channel_id IS NULL AND lead_id IS NULL)",
                        name="target_fits_audience"),
        # HQ's deliveries page lists the newest first: read along this index, not sorted from the whole history.
        Index("ix_notifications_created_at", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, 16), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    # The target: a staff channel for staff kinds, a customer group for customer kinds (never both).
    staff_channel_id: Mapped[int | None] = mapped_column(ForeignKey("staff_channels.id", ondelete="SET NULL"),
                                                         index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    # Written once: "remind:<lead>", "digest:<store>:<day>", "post:<session>:<group>:<minutes>" ...
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    message: Mapped[dict] = mapped_column(JSON)  # the robot payload: {"msgtype": "markdown", ...}
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, 12), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a scheduled post's planned time
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a post later than this is withdrawn
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audience(self) -> Audience:
        return audience_of(self.kind)
