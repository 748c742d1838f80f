"""Declarative base, shared column types and the import of every feature's models."""
import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use utcnow()")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None


def enum_column(enum_cls: type[enum.Enum], length: int = 24) -> Enum:
    """A portable enum column that stores the member's value."""
    return Enum(enum_cls, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda members: [m.value for m in members])


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def import_all_models() -> None:
    """Register every feature's tables on Base.metadata (for migrations and create_all)."""
    from matrix.accounts import models as _accounts  # noqa: F401
    from matrix.audit import models as _audit  # noqa: F401
    from matrix.auth import models as _auth  # noqa: F401
    from matrix.brands import models as _brands  # noqa: F401
    from matrix.broadcasts import models as _broadcasts  # noqa: F401
    from matrix.communities import models as _communities  # noqa: F401
    from matrix.content import models as _content  # noqa: F401
    from matrix.imports import models as _imports  # noqa: F401
    from matrix.joins import models as _joins  # noqa: F401
    from matrix.leads import models as _leads  # noqa: F401
    from matrix.live import models as _live  # noqa: F401
    from matrix.materials import models as _materials  # noqa: F401
    from matrix.notifications import models as _notifications  # noqa: F401
    from matrix.onboarding import models as _onboarding  # noqa: F401
    from matrix.plans import models as _plans  # noqa: F401
    from matrix.printjobs import models as _printjobs  # noqa: F401
    from matrix.regions import models as _regions  # noqa: F401
    from matrix.storefront import models as _storefront  # noqa: F401
    from matrix.stores import models as _stores  # noqa: F401
    from matrix.wecom import models as _wecom  # noqa: F401
