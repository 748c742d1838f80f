"""HQ's settings of the staff reminders and digest, and each store's switch for its community posts."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from matrix.models import Base, UTCDateTime, utcnow

DEFAULT_REMINDER_HOURS = 4
DEFAULT_DIGEST_AT = "08:30"


class BroadcastSettings(Base):
    """The chain's one row (created with the defaults on first read)."""

    __tablename__ = "broadcast_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A lead still new this many hours after it arrived gets one reminder in the staff channel; 0: never.
    reminder_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_REMINDER_HOURS)
    digest_on: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_at: Mapped[str] = mapped_column(String(5), default=DEFAULT_DIGEST_AT)  # local, the chain's zone
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StorePosts(Base):
    """A store's choice about posts to its customer groups; no row: posts on."""

    __tablename__ = "store_posts"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    community_posts: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
