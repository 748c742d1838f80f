"""Print jobs: asked for by HQ, built by `flask print-jobs`, downloaded until they expire.

A web request only writes the job row; the worker builds the PDF. Workers claim a job with a
guarded UPDATE (queued, or running with its lease run out): only the worker whose UPDATE changed
the row builds it, on SQLite and PostgreSQL alike. While building, the worker renews its lease
with each batch; a cancelled job or one another worker took over stops at the next batch.
"""
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError, NotFound
from matrix.extensions import db
from matrix.models import utcnow
from matrix.printjobs.models import JobStatus, PrintJob
from matrix.printjobs.renderers import PAPERS, renderer_for
from matrix.transaction import transactional

MAX_ACTIVE_PER_USER = 3
MAX_ATTEMPTS = 3     # a job whose worker died this often fails instead of being claimed again


def job_dir() -> Path:
    """Where finished PDFs are kept (PRINT_JOB_DIR, else the instance folder's print_jobs)."""
    folder = Path(current_app.config.get("PRINT_JOB_DIR") or Path(current_app.instance_path) / "print_jobs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def job_file(job: PrintJob) -> Path | None:
    """The finished PDF, while it is kept."""
    if job.status != JobStatus.DONE or not job.file_name:
        return None
    path = job_dir() / job.file_name
    return path if path.is_file() else None


@transactional
def request_job(*, actor: User, renderer: str, store_ids: list[int], title: str, params: dict | None = None,
                paper: str = "A4-landscape", locale: str = "zh") -> PrintJob:
    """Queue a document: a cover and one page per store, in the order of `store_ids` (HQ only)."""
    if not actor.is_hq:
        raise NotFound(_("Not found."))
    if renderer_for(renderer) is None or paper not in PAPERS:
        raise DomainError(_("This document cannot be printed here."))
    if not store_ids:
        raise DomainError(_("No store to print."))
    most = current_app.config["PRINT_JOB_MAX_STORES"]
    if len(store_ids) > most:
        raise DomainError(_("At most %(n)d stores in one document: choose a city.", n=most))
    active = db.session.scalar(select(func.count(PrintJob.id)).where(
        PrintJob.requested_by_id == actor.id, PrintJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))))
    if active >= MAX_ACTIVE_PER_USER:
        raise DomainError(_("You already have %(n)d documents being made: wait for one to finish.",
                            n=MAX_ACTIVE_PER_USER))
    job = PrintJob(requested_by_id=actor.id, renderer=renderer, title=title[:200], params=params or {},
                   store_ids=list(store_ids), paper=paper, locale=locale, pages_total=len(store_ids))
    db.session.add(job)
    db.session.flush()
    audit.record(actor, "create", "print_job", entity_id=job.id, summary=job.title,
                 changes={"renderer": renderer, "stores": len(store_ids), "params": job.params, "paper": paper})
    db.session.commit()
    return job


@transactional
def cancel_job(job: PrintJob, *, actor: User) -> bool:
    """Stop a queued or running job (HQ only); a worker building it stops at its next batch."""
    if not actor.is_hq:
        raise NotFound(_("Not found."))
    changed = db.session.execute(update(PrintJob).where(
        PrintJob.id == job.id, PrintJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), locked_until=None)
        .execution_options(synchronize_session=False)).rowcount == 1
    if changed:
        audit.record(actor, "cancel", "print_job", entity_id=job.id, summary=job.title)
    db.session.commit()
    db.session.refresh(job)
    return changed


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def _claimable(now: datetime):
    return or_(PrintJob.status == JobStatus.QUEUED,
               and_(PrintJob.status == JobStatus.RUNNING, PrintJob.locked_until < now))


def claim_job(*, worker: str, now: datetime | None = None) -> PrintJob | None:
    """Take the oldest job nobody is building (a queued one, or one whose worker's lease ran out); commits."""
    now = now or utcnow()
    lease = now + timedelta(seconds=current_app.config["PRINT_JOB_LEASE_S"])
    for job_id, attempts in db.session.execute(select(PrintJob.id, PrintJob.attempts).where(_claimable(now))
                                               .order_by(PrintJob.id).limit(10)).all():
        if attempts >= MAX_ATTEMPTS:
            _give_up(job_id, now)
            continue
        claimed = db.session.execute(update(PrintJob).where(PrintJob.id == job_id, _claimable(now)).values(
            status=JobStatus.RUNNING, worker=worker, locked_until=lease, attempts=PrintJob.attempts + 1,
            pages_done=0, started_at=now, error=None).execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed == 1:
            return db.session.get(PrintJob, job_id, populate_existing=True)
    db.session.commit()
    return None


def _give_up(job_id: int, now: datetime) -> None:
    db.session.execute(update(PrintJob).where(PrintJob.id == job_id, _claimable(now)).values(
        status=JobStatus.FAILED, finished_at=now, locked_until=None,
        error="The worker building this document stopped three times.").execution_options(
        synchronize_session=False))
    db.session.commit()


def _mine(job: PrintJob, worker: str):
    return and_(PrintJob.id == job.id, PrintJob.worker == worker, PrintJob.status == JobStatus.RUNNING)


def report_progress(job: PrintJob, *, worker: str, pages_done: int) -> bool:
    """Record progress and renew the lease; False when the job was cancelled or taken over (stop building)."""
    lease = utcnow() + timedelta(seconds=current_app.config["PRINT_JOB_LEASE_S"])
    kept = db.session.execute(update(PrintJob).where(_mine(job, worker)).values(
        pages_done=pages_done, locked_until=lease).execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return kept


def finish_job(job: PrintJob, *, worker: str, file_name: str, file_size: int, page_count: int) -> bool:
    """The PDF is in place: offer it until PRINT_JOB_KEEP_HOURS from now."""
    now = utcnow()
    done = db.session.execute(update(PrintJob).where(_mine(job, worker)).values(
        status=JobStatus.DONE, file_name=file_name, file_size=file_size, page_count=page_count,
        pages_done=job.pages_total, finished_at=now, locked_until=None,
        expires_at=now + timedelta(hours=current_app.config["PRINT_JOB_KEEP_HOURS"]))
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return done


def fail_job(job: PrintJob, *, worker: str, error: str) -> None:
    db.session.execute(update(PrintJob).where(_mine(job, worker)).values(
        status=JobStatus.FAILED, error=error[:500], finished_at=utcnow(), locked_until=None)
        .execution_options(synchronize_session=False))
    db.session.commit()


def expire_jobs(now: datetime | None = None) -> int:
    """Delete the files of finished jobs past their keeping time; returns how many expired."""
    now = now or utcnow()
    jobs = db.session.scalars(select(PrintJob).where(PrintJob.status == JobStatus.DONE,
                                                     PrintJob.expires_at < now)).all()
    for job in jobs:
        if job.file_name:
            (job_dir() / job.file_name).unlink(missing_ok=True)
        job.status, job.file_name = JobStatus.EXPIRED, None
    db.session.commit()
    return len(jobs)


def recent_jobs(limit: int = 50) -> list[PrintJob]:
    """The newest jobs, for HQ's list."""
    return list(db.session.scalars(select(PrintJob).order_by(PrintJob.id.desc()).limit(limit)))
