"""Stores, the places the matrix is built on, and the managers who run them."""
import enum
from datetime import date, datetime

from sqlalchemy import Column, Date, Float, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.brands.models import Brand
from matrix.models import Base, UTCDateTime, enum_column, utcnow


class StoreStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED_TEMPORARILY = "closed_temporarily"
    CLOSED = "closed"


class GeocodeStatus(enum.StrEnum):
    """Where a store's coordinates came from, or why it has none."""

    MANUAL = "manual"        # typed into the store form
    IMPORTED = "imported"    # came with the coordinates of an imported sheet
    GEOCODED = "geocoded"    # found by the geocoder from the address
    MISSING = "missing"      # no coordinates and no geocoder configured
    FAILED = "failed"        # the geocoder failed or found nothing: flagged for a person


# Which users manage which stores (a manager may run several).
store_managers = Table(
    "store_managers",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", Integer, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    address: Mapped[str] = mapped_column(Text, default="")
    # Canonical WGS-84; converted from the input's system on the way in.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    geocode_status: Mapped[GeocodeStatus] = mapped_column(enum_column(GeocodeStatus), default=GeocodeStatus.MISSING)
    geocode_error: Mapped[str | None] = mapped_column(String(255))
    service_radius_km: Mapped[float] = mapped_column(Float, default=3.0)
    status: Mapped[StoreStatus] = mapped_column(enum_column(StoreStatus), default=StoreStatus.OPEN, index=True)
    opened_on: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(40))
    # Shown on the store's public page and posters as typed ("周一至周日 10:00-22:00").
    opening_hours: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Deleting a store with history archives it: its accounts, communities and audit trail stay.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    brand: Mapped[Brand | None] = relationship()
    city: Mapped["Region"] = relationship(foreign_keys=[city_code])  # noqa: F821
    district: Mapped["Region | None"] = relationship(foreign_keys=[district_code])  # noqa: F821
    managers: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=store_managers, back_populates="stores")

    __mapper_args__ = {"version_id_col": version}

    @property
    def has_point(self) -> bool:
        return self.lon is not None and self.lat is not None
