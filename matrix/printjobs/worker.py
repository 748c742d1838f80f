"""The loop behind `flask print-jobs`: claim a job, build it, delete expired files, sleep when idle."""
import logging
import signal
import threading
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from matrix.extensions import db
from matrix.printjobs import services
from matrix.printjobs.builder import build_job

log = logging.getLogger(__name__)


def run_round(worker: str, echo: Callable[[str], None]) -> bool:
    """Expire old files, then build one job if there is one; True when a job was handled."""
    try:
        services.expire_jobs()
        job = services.claim_job(worker=worker)
        if job is None:
            return False
        echo(f"building print job {job.id}: {job.title} ({job.pages_total} stores)")
        started = time.monotonic()
        ok = build_job(job, worker=worker)
        db.session.refresh(job)
        echo(f"print job {job.id} {job.status.value} in {time.monotonic() - started:.1f} s"
             + (f": {job.error}" if job.error else ""))
        return ok or True
    except SQLAlchemyError as e:
        db.session.rollback()
        log.exception("print worker round failed")
        echo(f"database error, trying again: {type(e).__name__}")
        return False


def run_print_jobs(*, once: bool = False, interval: float | None = None, echo: Callable[[str], None] = print,
                   sleep: Callable[[float], None] = time.sleep) -> None:
    """Build queued print jobs until stopped (or one round); several workers may run at once."""
    interval = current_app.config["PRINT_JOB_INTERVAL_S"] if interval is None else interval
    worker = services.worker_name()
    if once:
        run_round(worker, echo)
        return
    stop = {"requested": False}

    def request_stop(signum, frame):
        stop["requested"] = True  # the job in progress finishes first, so no lease is left dangling

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    echo(f"print worker {worker} started: idle sleep {interval}s (Ctrl-C stops)")
    while not stop["requested"]:
        busy = run_round(worker, echo)
        db.session.remove()
        if not busy and not stop["requested"]:
            sleep(interval)
    echo("print worker stopped")
