"""The chain's WeCom app connection: corp id, encrypted secrets and the cached access token."""
from datetime import datetime

from sqlalchemy import Boolean, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from matrix.models import Base, UTCDateTime, utcnow


class WecomConnection(Base):
    """One row: the self-built app (自建应用) HQ configured under 「客户联系 - 可调用接口的应用」."""

    __tablename__ = "wecom_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    corp_id: Mapped[str] = mapped_column(String(64))
    # Secrets are Fernet-encrypted with LEAD_PHONE_KEY; pages show only the last four characters.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    secret_last4: Mapped[str] = mapped_column(String(4), default="")
    callback_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    aes_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The access token every process shares (WeCom throttles gettoken); encrypted like the secret.
    access_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a join way's groups are all full, WeCom may open a new group by itself (auto_create_room).
    auto_create_room: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A configuration error (bad secret, no permission, untrusted IP): syncing pauses, then tries once again.
    config_error: Mapped[str | None] = mapped_column(String(300))
    config_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Joins before this moment are the groups' existing members, not joins the product brought.
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chats_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
