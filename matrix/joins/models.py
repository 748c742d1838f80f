"""Channel join codes (WeCom 「加入群聊」 join ways), the joins they bring, and the WeCom groups we follow."""
import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matrix.models import enum_column
from matrix.models import Base, UTCDateTime, utcnow


class JoinWayStatus(enum.StrEnum):
    PENDING = "pending"      # wanted: the sync creates it at WeCom
    READY = "ready"          # made at WeCom: its QR code works
    NO_GROUPS = "no_groups"  # the store has no active group with a WeCom chat id: the uploaded QR is used
    ERROR = "error"          # WeCom refused it (last_error); an existing QR code keeps its old groups
    RETIRED = "retired"      # deleted at WeCom (a lead's own code after the lead joined, an archived store)


class JoinWay(Base):
    """One store's join code for one channel (poster, bio, ...), or one lead's own invite."""

    __tablename__ = "join_ways"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(30), unique=True)  # names store, channel (and lead): see states.py
    config_id: Mapped[str | None] = mapped_column(String(64))
    qr_code: Mapped[str | None] = mapped_column(String(500))
    chat_ids: Mapped[list] = mapped_column(JSON, default=list)  # the groups WeCom has for it now, in order
    status: Mapped[JoinWayStatus] = mapped_column(enum_column(JoinWayStatus, 12), default=JoinWayStatus.PENDING)
    # Set in the transaction that changes the store's groups; the sync updates WeCom and clears it.
    stale: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    last_error: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker's claim
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def scannable(self) -> bool:
        """WeCom has a QR code for it that leads to the store's groups."""
        return bool(self.config_id and self.qr_code) and self.status not in (JoinWayStatus.RETIRED,
                                                                             JoinWayStatus.NO_GROUPS)


class GroupJoin(Base):
    """A customer who joined a store's group, once per group; who they are is kept only as a keyed hash."""

    __tablename__ = "group_joins"
    __table_args__ = (UniqueConstraint("chat_id", "member_hash", name="uq_group_joins_chat_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(8))  # None: not (yet) known, or not through our codes
    state: Mapped[str | None] = mapped_column(String(30))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    # HMAC-SHA256 (LEAD_HASH_KEY) of the WeCom external userid: enough to count a retried callback once.
    member_hash: Mapped[str] = mapped_column(String(64))
    join_scene: Mapped[int | None] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(8))  # "callback" or "sync": what told us first
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WecomChat(Base):
    """A WeCom customer group the app can read, and when to read its members again (groupchat/get)."""

    __tablename__ = "wecom_chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    members: Mapped[int] = mapped_column(Integer, default=0)
    member_version: Mapped[str] = mapped_column(String(64), default="")
    dismissed: Mapped[bool] = mapped_column(Boolean, default=False)
    sync_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
