"""HQ's reference material for a content template: images and short clips the stores shoot after."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from matrix.models import Base, UTCDateTime, utcnow


class Material(Base):
    """One uploaded file of a campaign template; the bytes are kept in the database (loaded only to send them)."""

    __tablename__ = "template_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("content_templates.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(40))          # sniffed from the bytes, never taken from the upload
    kind: Mapped[str] = mapped_column(String(10))          # "image" or "video"
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)  # videos
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped["ContentTemplate"] = relationship()  # noqa: F821
    uploaded_by: Mapped["User | None"] = relationship()  # noqa: F821
