"""The loop behind `flask worker`: route the lead deliveries the webhook stored, deliver what is due, repeat.

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
from matrix.notifications.claims import DeliveryCounts
from matrix.notifications.dispatch import Dispatcher
from matrix.notifications.services import deliver_due
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
    """One deliver_due call (--once); a database hiccup is logged and the loop goes on."""
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


def run_routing(routing: Callable | None, echo: Callable[[str], None]) -> int:
    """Route the lead deliveries waiting (the webhook only stored them); how many were handled."""
    if routing is None:
        return 0
    try:
        routed, failed = routing()
    except SQLAlchemyError as e:
        db.session.rollback()
        log.exception("routing lead deliveries failed")
        echo(f"routing: database error, trying again: {type(e).__name__}")
        return 0
    if routed or failed:
        echo(f"lead deliveries routed {routed}, failed {failed}")
    return routed + failed


def pump(dispatcher: Dispatcher, limit: int, echo: Callable[[str], None]) -> bool:
    """Save answers, renew leases, claim, start sends; False after a database error (the rows stay held)."""
    try:
        dispatcher.collect()
        dispatcher.renew_if_due()
        dispatcher.claim_now_and_then(limit)
        dispatcher.start()
    except SQLAlchemyError as e:
        db.session.rollback()
        log.exception("worker round failed")
        echo(f"database error, trying again: {type(e).__name__}")
        return False
    return True


def report(dispatcher: Dispatcher, told: DeliveryCounts, echo: Callable[[str], None]) -> DeliveryCounts:
    """Echo what was done since the last line, at most one line a second; the counts told so far."""
    done = DeliveryCounts(**{k: v - getattr(told, k) for k, v in vars(dispatcher.counts).items()})
    if done.handled:
        echo(done.line())
        return DeliveryCounts(**vars(dispatcher.counts))
    return told


def run_worker(*, once: bool = False, interval: float | None = None, limit: int | None = None,
               echo: Callable[[str], None] = print, client=None, periodic: Callable | None = None,
               routing: Callable | None = None, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> DeliveryCounts | None:
    """Route waiting lead deliveries and deliver due notifications until stopped (or once).

    `periodic` (no arguments) runs first and then about every PERIODIC_S seconds; `routing` every round.
    Robots are sent to side by side (dispatch.py); the loop sleeps `interval` only when nothing is in hand.
    """
    config = current_app.config
    interval = config.get("WORKER_INTERVAL_S", 2.0) if interval is None else interval
    limit = limit or config.get("WORKER_BATCH", 50)
    client = client or RobotClient.from_config(config)
    if once:
        run_periodic_step(periodic, echo)
        run_routing(routing, echo)
        return run_round(client, limit, echo)
    stop = _Stop()
    _install(stop)
    echo(f"worker started: up to {limit} deliveries in hand, idle sleep {interval}s (Ctrl-C stops)")
    dispatcher = Dispatcher(client)
    last_periodic, told, told_at = None, DeliveryCounts(), time.monotonic()
    try:
        while not stop.requested:
            if last_periodic is None or clock() - last_periodic >= PERIODIC_S:
                last_periodic = clock()
                run_periodic_step(periodic, echo)
            routed = run_routing(routing, echo)
            healthy = pump(dispatcher, limit, echo)
            db.session.remove()  # no stale rows, no transaction held while waiting
            if time.monotonic() - told_at >= 1 or dispatcher.idle():
                told, told_at = report(dispatcher, told, echo), time.monotonic()
            if dispatcher.running and healthy:
                dispatcher.collect(timeout=min(interval, 0.5))  # wakes at the first answer
            elif not healthy:
                sleep(min(interval, 1.0))
            elif dispatcher.idle() and not routed and not stop.requested:
                sleep(interval)
    finally:
        _finish(dispatcher)
    echo("worker stopped")
    return None


def _finish(dispatcher: Dispatcher) -> None:
    try:
        dispatcher.stop()  # sends in flight end (bounded by the time-out); rows not started are given back
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not give back the rows in hand; they are free when their lease ends")
    dispatcher.close()
