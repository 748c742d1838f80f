"""A store's WeCom/WeChat groups, in rotation order (the live code)."""
import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import enum_column
from matrix.models import Base, UTCDateTime, utcnow

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
    robot_webhook_url: Mapped[str | None] = mapped_column(String(500))
    # Set when the robot answered a permanent error (93000 robot removed, 40008 ...): HQ must fix it.
    robot_error: Mapped[str | None] = mapped_column(String(300))
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


def mask_secret_url(url: str | None) -> str:
    """Keep the host and the key's last four characters: enough to tell robots apart."""
    if not url:
        return ""
    head, _, key = url.partition("key=")
    if key:
        return f"{head}key=****{key[-4:]}"
    return url[:30] + "****"
