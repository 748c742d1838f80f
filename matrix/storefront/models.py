"""The store page's settings, the consent texts visitors agreed to, their consent per lead, and page counts."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from matrix.models import Base, UTCDateTime, utcnow

# Defaults in the chain's language (Chinese); HQ rewrites them on the settings page.
DEFAULT_CONSENT = "我已阅读并同意《个人信息保护声明》，同意门店通过电话与我联系。"
DEFAULT_HEADLINE = "扫码进{{ store_name }}福利群"
DEFAULT_BODY = "到店体验新品，直播间抢优惠。{% if next_live %}\n下一场直播：{{ next_live }}{% endif %}"
DEFAULT_FOOTER = "{{ address }}{% if opening_hours %} · {{ opening_hours }}{% endif %}"
DEFAULT_ACCENT = "red"


class StorefrontSettings(Base):
    """The chain's one row of store-page settings: privacy notice, consent line, poster layout and words."""

    __tablename__ = "storefront_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_form: Mapped[bool] = mapped_column(Boolean, default=True)  # the page's lead form on or off
    privacy_url: Mapped[str | None] = mapped_column(String(500))    # the chain's own notice, if it has one
    privacy_text: Mapped[str] = mapped_column(Text, default="")      # else shown at /privacy
    consent_text: Mapped[str] = mapped_column(String(500), default=DEFAULT_CONSENT)
    consent_version_id: Mapped[int | None] = mapped_column(ForeignKey("consent_versions.id"))
    poster_size: Mapped[str] = mapped_column(String(2), default="A4")
    poster_accent: Mapped[str] = mapped_column(String(10), default=DEFAULT_ACCENT)  # a palette name (posters.ACCENTS)
    poster_headline: Mapped[str] = mapped_column(String(500), default=DEFAULT_HEADLINE)
    poster_body: Mapped[str] = mapped_column(Text, default=DEFAULT_BODY)
    poster_footer: Mapped[str] = mapped_column(String(500), default=DEFAULT_FOOTER)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConsentVersion(Base):
    """The consent line and privacy notice exactly as visitors saw them; a new row whenever either changes."""

    __tablename__ = "consent_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    consent_text: Mapped[str] = mapped_column(String(500))
    privacy_url: Mapped[str | None] = mapped_column(String(500))
    privacy_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LeadConsent(Base):
    """A visitor's consent to be contacted, kept with the lead it came with: when and which text, never the IP."""

    __tablename__ = "lead_consents"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    consent_version_id: Mapped[int] = mapped_column(ForeignKey("consent_versions.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PageCount(Base):
    """Views of a store's page and clicks on its join button, per channel and local day; nothing about who."""

    __tablename__ = "store_page_counts"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    join_clicks: Mapped[int] = mapped_column(Integer, default=0)
