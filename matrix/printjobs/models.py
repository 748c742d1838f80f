"""A PDF built by the print worker: who asked, for which stores, how far it got, and where the file is."""
import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matrix.models import Base, UTCDateTime, enum_column, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"      # done, and its file deleted after the keeping time


class PrintJob(Base):
    """One document: a renderer's cover, then one page per store in the order given (generic: a week plan,
    a poster ...). The file lives in the instance folder (PRINT_JOB_DIR) until `expires_at`."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    renderer: Mapped[str] = mapped_column(String(40))        # a name in matrix.printjobs.renderers
    title: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # the renderer's own: a week, a city ...
    store_ids: Mapped[list] = mapped_column(JSON, default=list)  # one page each, in this order
    paper: Mapped[str] = mapped_column(String(20), default="A4-landscape")
    locale: Mapped[str] = mapped_column(String(10), default="zh")
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus, 12), default=JobStatus.QUEUED, index=True)
    pages_total: Mapped[int] = mapped_column(Integer, default=0)   # stores, the cover aside
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int | None] = mapped_column(Integer)        # read back from the finished PDF
    file_name: Mapped[str | None] = mapped_column(String(120))     # inside PRINT_JOB_DIR
    file_size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(80))         # host:pid of the worker building it
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the worker's lease
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def percent(self) -> int:
        return round(100 * self.pages_done / self.pages_total) if self.pages_total else 0

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)
