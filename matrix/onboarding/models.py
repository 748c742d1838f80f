"""A chain's first hour: HQ's naming rules for the accounts and groups stores still lack, and the stores whose gaps
were handed to their managers."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import Base, UTCDateTime, utcnow

DEFAULT_ACCOUNT_RULE = "{brand}·{city}{district}店"
DEFAULT_GROUP_RULE = "{store}·{n}群"  # the dot keeps a store name ending in a digit apart from the number


class NamingRules(Base):
    """One row: how a missing account or group is named in the gap sheet and on the manager's task list."""

    __tablename__ = "naming_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_name_rule: Mapped[str] = mapped_column(String(120), default=DEFAULT_ACCOUNT_RULE)
    group_name_rule: Mapped[str] = mapped_column(String(120), default=DEFAULT_GROUP_RULE)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Handover(Base):
    """A store whose missing accounts and groups HQ handed to its managers to fill in on their phones."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), unique=True)
    handed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(300), default="")

    store: Mapped["Store"] = relationship()  # noqa: F821
    handed_by: Mapped["User | None"] = relationship()  # noqa: F821
