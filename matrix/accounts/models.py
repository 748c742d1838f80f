"""Platforms and the accounts of the matrix on them."""
import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import enum_column
from matrix.models import Base, UTCDateTime, utcnow


class AccountScope(enum.StrEnum):
    BRAND = "brand"   # 品牌主号, run by HQ
    STORE = "store"   # 门店号, run by a store


class AccountStatus(enum.StrEnum):
    INCUBATING = "incubating"
    ACTIVE = "active"
    RESTRICTED = "restricted"
    BANNED = "banned"
    RETIRED = "retired"


class Platform(Base):
    """A short-video platform. The list is data: HQ can add one without a release."""

    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    # Hosts a profile or post URL must be on, comma-separated (e.g. "douyin.com,iesdouyin.com").
    url_hosts: Mapped[str] = mapped_column(String(255), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform_id", "handle", name="uq_accounts_platform_handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    scope: Mapped[AccountScope] = mapped_column(enum_column(AccountScope, 12))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    handle: Mapped[str] = mapped_column(String(80))
    display_name: Mapped[str] = mapped_column(String(160), default="")
    profile_url: Mapped[str | None] = mapped_column(String(500))
    poi_id: Mapped[str | None] = mapped_column(String(80))
    followers: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[AccountStatus] = mapped_column(enum_column(AccountStatus), default=AccountStatus.INCUBATING)
    run_by: Mapped[str | None] = mapped_column(String(120))  # the staff member who runs it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()
    brand: Mapped["Brand | None"] = relationship()  # noqa: F821
    store: Mapped["Store | None"] = relationship()  # noqa: F821
