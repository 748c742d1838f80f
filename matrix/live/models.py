"""Live sessions, the chain's trailer rules, and the chain-wide live settings."""
import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import Base, UTCDateTime, enum_column, utcnow


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    DONE = "done"
    CANCELLED = "cancelled"


# The default trailer steps: minutes before the start, who posts besides the host account, and whether the
# host store's customer groups get the trailer too ("community"; a step without the key does not).
DEFAULT_STEPS = [
    {"minutes": 3 * 24 * 60, "brand": True, "siblings": False, "community": False},
    {"minutes": 24 * 60, "brand": True, "siblings": True, "community": True},
    {"minutes": 3 * 60, "brand": False, "siblings": True, "community": True},
    {"minutes": 30, "brand": False, "siblings": False, "community": False},
]
DEFAULT_TOPIC = "直播预告：{{ title }}"
DEFAULT_CAPTION = ("{{ starts_label }}，{{ store_name }}直播间见！{{ theme }}\n"
                   "主播：{{ anchor }}。进群领福利：{{ community_name }}")
DEFAULT_HASHTAGS = "#{{ city }}直播 #{{ brand }}"


class LiveSession(Base):
    """One broadcast on one account; the store columns are copied from the host account for scoping and conflicts."""

    __tablename__ = "live_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)  # None: a brand main account
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("trailer_rules.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    title: Mapped[str] = mapped_column(String(160))
    theme: Mapped[str] = mapped_column(Text, default="")          # theme or products
    anchor: Mapped[str] = mapped_column(String(80))               # the staff member on camera
    anchor_key: Mapped[str] = mapped_column(String(80), index=True)  # anchor folded, for double-booking checks
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, 12), default=SessionStatus.SCHEDULED,
                                                  index=True)
    # Nearby sessions (same city or within the nearby distance) the scheduler saw and accepted.
    accepted_overlaps: Mapped[list] = mapped_column(JSON, default=list)
    peak_viewers: Mapped[int | None] = mapped_column(Integer)
    new_followers: Mapped[int | None] = mapped_column(Integer)
    orders: Mapped[int | None] = mapped_column(Integer)
    leads: Mapped[int | None] = mapped_column(Integer)
    replay_url: Mapped[str | None] = mapped_column(String(500))
    # The live room customers open from the "we are live now" post; the account's profile link when empty.
    live_url: Mapped[str | None] = mapped_column(String(500))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    account: Mapped["Account"] = relationship()  # noqa: F821
    store: Mapped["Store | None"] = relationship()  # noqa: F821
    rule: Mapped["TrailerRule | None"] = relationship()

    __mapper_args__ = {"version_id_col": version}


class TrailerRule(Base):
    """When trailers go out before a session, who posts them, and their sandboxed text."""

    __tablename__ = "trailer_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    steps: Mapped[list] = mapped_column(JSON, default=lambda: [dict(s) for s in DEFAULT_STEPS])
    sibling_km: Mapped[float] = mapped_column(Float, default=0.0)   # 0: any sibling store of the same city
    max_siblings: Mapped[int] = mapped_column(Integer, default=5)   # the nearest ones
    other_platforms: Mapped[bool] = mapped_column(Boolean, default=False)  # brand/siblings on other platforms too
    topic: Mapped[str] = mapped_column(String(500), default=DEFAULT_TOPIC)
    caption: Mapped[str] = mapped_column(Text, default=DEFAULT_CAPTION)
    hashtags: Mapped[str] = mapped_column(String(500), default=DEFAULT_HASHTAGS)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LiveSettings(Base):
    """The chain's one row of live settings (created with defaults on first read)."""

    __tablename__ = "live_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    nearby_km: Mapped[float] = mapped_column(Float, default=0.0)     # 0: same city only; >0: also across cities
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")  # local; trailers never due in between
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    evening_slot: Mapped[str] = mapped_column(String(5), default="20:00")  # where a night trailer moves to
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
