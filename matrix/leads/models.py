"""Leads from local traffic and the sources that deliver them."""
import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import Base, UTCDateTime, enum_column, utcnow


class SourceKind(enum.StrEnum):
    GENERIC = "generic"          # HMAC-SHA256 of timestamp.body
    DOUYIN = "douyin"            # X-Douyin-Signature: sha1(secret + body)
    OCEANENGINE = "oceanengine"  # Ocean Engine clue payloads
    KUAISHOU = "kuaishou"        # kwaisign: md5(body + secret)
    MANUAL = "manual"            # typed in by staff
    IMPORT = "import"            # from a sheet
    STOREFRONT = "storefront"    # the lead form on a store's public page


class LeadStatus(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    JOINED = "joined"        # joined the community
    VISITED = "visited"
    CONVERTED = "converted"
    LOST = "lost"


class RoutingRule(enum.StrEnum):
    COORDINATES = "coordinates"
    DISTRICT = "district"
    CITY = "city"
    SOURCE = "source"
    MANUAL = "manual"
    UNROUTED = "unrouted"


class LeadSource(Base):
    __tablename__ = "lead_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(40), unique=True)  # the webhook URL's last part
    kind: Mapped[SourceKind] = mapped_column(enum_column(SourceKind, 16))
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_scheme: Mapped[str] = mapped_column(String(30), default="")  # pluggable: overrides the kind's default
    field_map: Mapped[dict] = mapped_column(JSON, default=dict)  # lead field -> dotted path in the payload
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)  # a store's own account or form
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (UniqueConstraint("source_id", "external_id", name="uq_leads_source_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("lead_sources.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120), default="")
    # The phone is encrypted at rest; the keyed hash finds duplicates without decrypting.
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    province_text: Mapped[str] = mapped_column(String(60), default="")
    city_text: Mapped[str] = mapped_column(String(60), default="")
    address_text: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lat: Mapped[float | None] = mapped_column(Float)
    city_code: Mapped[str | None] = mapped_column(String(12), index=True)
    district_code: Mapped[str | None] = mapped_column(String(12))
    source_store_id: Mapped[int | None] = mapped_column(Integer)  # a store named by the source or payload
    ad_id: Mapped[str | None] = mapped_column(String(60))
    creative_id: Mapped[str | None] = mapped_column(String(60))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    routing_rule: Mapped[RoutingRule | None] = mapped_column(enum_column(RoutingRule, 16))
    routing_reason: Mapped[str | None] = mapped_column(String(300))
    distance_m: Mapped[float | None] = mapped_column(Float)
    status: Mapped[LeadStatus] = mapped_column(enum_column(LeadStatus, 12), default=LeadStatus.NEW, index=True)
    lost_reason: Mapped[str | None] = mapped_column(String(300))
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at_source: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw_payload: Mapped[dict | None] = mapped_column(JSON)  # with the phone masked

    store: Mapped["Store | None"] = relationship()  # noqa: F821
    community: Mapped["Community | None"] = relationship()  # noqa: F821
    source: Mapped[LeadSource | None] = relationship()


class LeadNote(Base):
    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RejectedDelivery(Base):
    """A webhook call we refused; no personal data, only why."""

    __tablename__ = "rejected_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("lead_sources.id"), index=True)
    source_slug: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(String(300))
    status_code: Mapped[int] = mapped_column(Integer)
    body_bytes: Mapped[int] = mapped_column(Integer, default=0)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # accepted and answered 200; the worker has not routed it yet
    ROUTED = "routed"    # its lead exists (or it was the same lead again)
    FAILED = "failed"    # routing raised: kept with the reason for HQ, never retried by itself


class InboundDelivery(Base):
    """A verified webhook delivery, stored before we answer 200 and routed right after by the worker.

    Unique per source and dedupe key (the lead id, else the platform's message id, else a digest of
    the body): a platform's retry of an accepted delivery is answered "duplicate" and stored once.
    The body is kept encrypted (it holds the phone) until the lead is made, then dropped.
    """

    __tablename__ = "inbound_deliveries"
    __table_args__ = (UniqueConstraint("source_id", "dedupe_key", name="uq_inbound_deliveries_source_key"),
                      Index("ix_inbound_deliveries_state", "state", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("lead_sources.id"))
    dedupe_key: Mapped[str] = mapped_column(String(120))
    message_id: Mapped[str | None] = mapped_column(String(120))
    body_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState, 10), default=DeliveryState.PENDING)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
