"""Live sessions and the rules that announce them with trailers."""
import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.auth.models import enum_column
from matrix.models import Base, UTCDateTime, utcnow


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    DONE = "done"
    CANCELLED = "cancelled"


class LiveSession(Base):
    __tablename__ = "live_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)  # None for a brand main account
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(Text, default="")
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    anchor_name: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, 12), default=SessionStatus.SCHEDULED, index=True)
    peak_viewers: Mapped[int | None] = mapped_column(Integer)
    new_followers: Mapped[int | None] = mapped_column(Integer)
    orders: Mapped[int | None] = mapped_column(Integer)
    leads: Mapped[int | None] = mapped_column(Integer)
    replay_url: Mapped[str | None] = mapped_column(String(500))
    accepted_warnings: Mapped[list] = mapped_column(JSON, default=list)  # same-city overlaps the scheduler accepted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    account: Mapped["Account"] = relationship()  # noqa: F821
    store: Mapped["Store | None"] = relationship()  # noqa: F821


class TrailerRule(Base):
    """How HQ wants sessions announced; the active rule applies to new and moved sessions."""

    __tablename__ = "trailer_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    offsets_minutes: Mapped[list] = mapped_column(JSON, default=lambda: [3 * 24 * 60, 24 * 60, 180, 30])
    post_on_host: Mapped[bool] = mapped_column(Boolean, default=True)
    post_on_brand: Mapped[bool] = mapped_column(Boolean, default=True)
    siblings_within_km: Mapped[float] = mapped_column(Float, default=0.0)  # 0: no sibling stores
    same_platform_only: Mapped[bool] = mapped_column(Boolean, default=True)
    caption_template: Mapped[str] = mapped_column(Text, default="")
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    evening_slot: Mapped[str] = mapped_column(String(5), default="20:30")
    conflict_distance_km: Mapped[float] = mapped_column(Float, default=0.0)  # 0: same city
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
