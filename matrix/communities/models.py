"""A store's WeCom/WeChat groups, in rotation order (the live code), and the robot of its staff group.

Two audiences never mix: a community's robot posts to customers (trailers, "we are live now"), the store's
staff channel gets lead alerts, reminders and the daily digest. Each robot is used for its audience only once
someone confirmed which group it sits in; robots recorded before that rule existed wait unconfirmed.
"""
import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import Base, UTCDateTime, enum_column, utcnow

# A QR-joined WeChat group stops accepting scans at 200 members.
DEFAULT_CAPACITY = 200


class CommunityKind(enum.StrEnum):
    WECOM = "wecom"      # 企业微信群
    WECHAT = "wechat"    # 微信群


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[CommunityKind] = mapped_column(enum_column(CommunityKind, 12), default=CommunityKind.WECOM)
    invite_link: Mapped[str | None] = mapped_column(String(500))
    qr_image: Mapped[bytes | None] = mapped_column(LargeBinary)
    qr_mime: Mapped[str | None] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(Integer, default=DEFAULT_CAPACITY)
    members: Mapped[int] = mapped_column(Integer, default=0)
    # Secret: anyone holding it can post into the group. Shown masked, never logged.
    # Indexed: before every send the worker checks that no staff channel uses a group's robot (and back).
    robot_webhook_url: Mapped[str | None] = mapped_column(String(500), index=True)
    # Set when the robot answered a permanent error (93000 robot removed, 40008 ...): HQ must fix it.
    robot_error: Mapped[str | None] = mapped_column(String(300))
    # Who confirmed the robot sits in this customer group (set when a robot is entered on the group's form or
    # answered "customers"); None: unconfirmed, no customer post goes to it.
    robot_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    robot_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # WeCom's id of the customer group (chat_id, "wr..."): what channel join codes list and joins name.
    wecom_chat_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rotation_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    store: Mapped["Store"] = relationship()  # noqa: F821

    @property
    def is_full(self) -> bool:
        return self.members >= self.capacity

    @property
    def masked_webhook(self) -> str:
        return mask_secret_url(self.robot_webhook_url)

    @property
    def robot_confirmed(self) -> bool:
        return bool(self.robot_webhook_url) and self.robot_confirmed_at is not None


class StaffChannel(Base):
    """The robot of a store's staff group: lead alerts, reminders and the digest go here once confirmed.

    A row without `confirmed_at` is a candidate (a robot found on one of the store's groups by the upgrade):
    shown, never used, until HQ or the store's manager says it sits in the staff group.
    """

    __tablename__ = "staff_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), unique=True)
    # Secret, like a group's robot: shown masked, never logged.
    robot_webhook_url: Mapped[str] = mapped_column(String(500), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The group whose robot the upgrade proposed as this candidate.
    source_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"))
    robot_error: Mapped[str | None] = mapped_column(String(300))  # a permanent refusal: someone must fix the robot
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    confirmed_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def masked_webhook(self) -> str:
        return mask_secret_url(self.robot_webhook_url)


def mask_secret_url(url: str | None) -> str:
    """Keep the host and the key's last four characters: enough to tell robots apart."""
    if not url:
        return ""
    head, _, key = url.partition("key=")
    if key:
        return f"{head}key=****{key[-4:]}"
    return url[:30] + "****"
