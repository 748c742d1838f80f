"""The delivery loop behind `flask worker`: deliver what is due, sleep when idle, repeat.

A periodic step (the staff reminders and digest, matrix.broadcasts.schedule) can ride along: the command
passes it in, and the loop runs it about once a minute, before delivering, so what it writes goes out
in the same round.
"""
import logging
import signal
import threading
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from matrix.extensions import db
from matrix.notifications.services import DeliveryCounts, deliver_due
from matrix.notifications.wecom import RobotClient

log = logging.getLogger(__name__)


class _Stop:
    """Set by SIGTERM/SIGINT: the round in progress finishes, so no claimed row waits for its lease."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        self.requested = True


def _install(stop: _Stop) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


PERIODIC_S = 60


def run_periodic_step(periodic: Callable | None, echo: Callable[[str], None]) -> None:
    """Run the periodic step once; a failure is logged and delivery goes on."""
    if periodic is None:
        return
    try:
        written = periodic()
    except SQLAlchemyError as e:
        db.session.rollback()
        log.exception("periodic step failed")
        echo(f"periodic step: database error, trying again later: {type(e).__name__}")
        return
    if written is not None and any(vars(written).values()):
        echo(f"written: {written.line()}")


def run_round(client, limit: int, echo: Callable[[str], None]) -> DeliveryCounts | None:
    """One deliver_due call; a database hiccup is logged and the loop goes on."""
    try:
        counts = deliver_due(client=client, limit=limit)
    except SQLAlchemyError as e:
        db.session.rollback()
        log.exception("worker round failed")
        echo(f"database error, trying again: {type(e).__name__}")
        return None
    if counts.handled:
        echo(counts.line())
    return counts


def run_worker(*, once: bool = False, interval: float | None = None, limit: int | None = None,
               echo: Callable[[str], None] = print, client=None, periodic: Callable | None = None,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> DeliveryCounts | None:
    """Deliver due notifications until stopped (or once); sleep `interval` seconds when idle.

    `periodic` (no arguments) runs first and then about every PERIODIC_S seconds.
    """
    config = current_app.config
    interval = config.get("WORKER_INTERVAL_S", 2.0) if interval is None else interval
    limit = limit or config.get("WORKER_BATCH", 50)
    client = client or RobotClient.from_config(config)
    if once:
        run_periodic_step(periodic, echo)
        return run_round(client, limit, echo)
    stop = _Stop()
    _install(stop)
    echo(f"worker started: up to {limit} deliveries a round, idle sleep {interval}s (Ctrl-C stops)")
    last_periodic = None
    while not stop.requested:
        if last_periodic is None or clock() - last_periodic >= PERIODIC_S:
            last_periodic = clock()
            run_periodic_step(periodic, echo)
        counts = run_round(client, limit, echo)
        db.session.remove()  # a fresh session each round: no stale rows, no transaction held while asleep
        busy = counts is not None and counts.sent + counts.retried + counts.failed >= limit
        if not busy and not stop.requested:
            sleep(interval)
    echo("worker stopped")
    return None
