"""China's provinces, cities and districts with their centres (offline data set)."""
import enum

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matrix.models import enum_column
from matrix.models import Base


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)  # 6-digit administrative code
    name: Mapped[str] = mapped_column(String(40), index=True)
    short_name: Mapped[str] = mapped_column(String(40), index=True)  # 杭州市 -> 杭州
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel, 12))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    # Centre in WGS-84 (converted from the data set's GCJ-02).
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)


class GeocodeCacheEntry(Base):
    """One geocoder answer, shared by every process so an address is asked once."""

    __tablename__ = "geocode_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    query: Mapped[str] = mapped_column(String(400))
    lon: Mapped[float | None] = mapped_column(Float)  # WGS-84; None: the provider found nothing
    lat: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (UniqueConstraint("provider", "query", name="uq_geocode_cache_provider_query"),)
