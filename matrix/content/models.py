"""Campaigns, their content templates, and the weekly content items of every store account."""
import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import Base, UTCDateTime, enum_column, utcnow


class ContentKind(enum.StrEnum):
    SHORT_VIDEO = "short_video"
    IMAGE_POST = "image_post"
    LIVE = "live"
    TRAILER = "trailer"


class StoreScope(enum.StrEnum):
    ALL = "all"
    CITY = "city"
    LIST = "list"
    TAG = "tag"


class ItemStatus(enum.StrEnum):
    PLANNED = "planned"
    SHOT = "shot"
    PUBLISHED = "published"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"   # a trailer whose session was cancelled


class ItemSource(enum.StrEnum):
    CAMPAIGN = "campaign"   # generated from a campaign's templates
    STORE = "store"         # added by the store
    TRAILER = "trailer"     # announces a live session


class Approval(enum.StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


store_tags = Table(
    "store_tags",
    Base.metadata,
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(40), primary_key=True, index=True),
)

DEFAULT_SLOTS = ["12:00", "18:00", "20:30"]  # local lunch and evening peaks


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    store_scope: Mapped[StoreScope] = mapped_column(enum_column(StoreScope, 12), default=StoreScope.ALL)
    scope_values: Mapped[list] = mapped_column(JSON, default=list)   # city codes, store ids or tags
    platform_ids: Mapped[list] = mapped_column(JSON, default=list)   # empty: every enabled platform
    cadence: Mapped[dict] = mapped_column(JSON, default=dict)        # {"short_video": 5, "image_post": 1} per account per week
    slots: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_SLOTS))
    spacing_km: Mapped[float] = mapped_column(Float, default=0.0)    # 0: same city only
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    templates: Mapped[list["ContentTemplate"]] = relationship(back_populates="campaign",
                                                              order_by="ContentTemplate.sort_order")


class ContentTemplate(Base):
    """Operator-written Jinja2 text, rendered per store in a sandbox."""

    __tablename__ = "content_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ContentKind] = mapped_column(enum_column(ContentKind, 16))
    topic: Mapped[str] = mapped_column(String(200))
    caption: Mapped[str] = mapped_column(Text, default="")
    script: Mapped[str] = mapped_column(Text, default="")       # shooting script or shot list
    hashtags: Mapped[str] = mapped_column(String(500), default="")
    location_tag: Mapped[str] = mapped_column(String(200), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    campaign: Mapped[Campaign | None] = relationship(back_populates="templates")


class ContentItem(Base):
    """One thing one account posts at one time: the unit of the weekly plan."""

    __tablename__ = "content_items"
    __table_args__ = (UniqueConstraint("generation_key", name="uq_content_items_generation_key"),
                      # HQ's plan page counts items waiting for approval: a handful among hundreds of thousands.
                      Index("ix_content_items_pending", "id", postgresql_where=text("approval = 'pending'"),
                            sqlite_where=text("approval = 'pending'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for a brand main account's trailer: HQ posts it, no store does.
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("content_templates.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("live_sessions.id"), index=True)  # a trailer's session
    # campaign:account:week:n for generated items, so regenerating finds them again.
    generation_key: Mapped[str | None] = mapped_column(String(120))
    day: Mapped[date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(5))  # local "HH:MM"
    kind: Mapped[ContentKind] = mapped_column(enum_column(ContentKind, 16))
    source: Mapped[ItemSource] = mapped_column(enum_column(ItemSource, 12), default=ItemSource.CAMPAIGN)
    topic: Mapped[str] = mapped_column(String(200), default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    script: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[str] = mapped_column(String(500), default="")
    location_tag: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus, 12), default=ItemStatus.PLANNED, index=True)
    post_url: Mapped[str | None] = mapped_column(String(500))
    skip_reason: Mapped[str | None] = mapped_column(String(300))
    approval: Mapped[Approval] = mapped_column(enum_column(Approval, 12), default=Approval.NOT_NEEDED)
    approval_note: Mapped[str | None] = mapped_column(String(300))  # HQ's reason for a rejection
    edited_by_store: Mapped[bool] = mapped_column(Boolean, default=False)
    flag: Mapped[str | None] = mapped_column(String(300))  # e.g. a published trailer that now announces a wrong time
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    store: Mapped["Store | None"] = relationship()  # noqa: F821
    account: Mapped["Account | None"] = relationship()  # noqa: F821
    campaign: Mapped[Campaign | None] = relationship()
    live_session: Mapped["LiveSession | None"] = relationship()  # noqa: F821 - what a trailer announces
