"""Who created, changed or deleted what."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(24))  # create, update, delete, import, sign_in ...
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[int | None] = mapped_column(index=True)
    store_id: Mapped[int | None] = mapped_column(index=True)
    summary: Mapped[str] = mapped_column(Text, default="")  # in the chain's language; the log shows `message`
    # A translatable summary: its message id and parameters, so each reader gets it in their own language.
    message: Mapped[str | None] = mapped_column(String(300))
    params: Mapped[dict | None] = mapped_column(JSON)
    changes: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped["User | None"] = relationship()  # noqa: F821
