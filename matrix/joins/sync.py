"""One round of `flask joins sync`: codes in step with the stores' groups, then the groups' members read.

A configuration error (bad secret, no permission, untrusted IP) is recorded on the connection and pauses
the sync for CONFIG_PAUSE, then one call tries again; a rate limit ends the round early. Every other
error stays on its code or group, retried with back-off.
"""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from matrix.extensions import db
from matrix.joins import members, refresh
from matrix.joins.connection import active_connection, client_for
from matrix.models import utcnow
from matrix.wecom.api import ErrorKind

log = logging.getLogger(__name__)

CONFIG_PAUSE = timedelta(minutes=10)
RECONCILE_EVERY = timedelta(minutes=5)
_last_reconcile: dict[str, datetime] = {}


@dataclass
class RoundReport:
    codes_done: int = 0
    codes_failed: int = 0
    chats_read: int = 0
    chats_failed: int = 0
    joins: int = 0
    chats_found: int = 0
    listed: bool = False
    stopped: str = ""

    @property
    def busy(self) -> bool:
        return bool(self.codes_done + self.codes_failed + self.chats_read + self.chats_failed)

    def summary(self) -> str:
        text = (f"codes updated {self.codes_done}, refused {self.codes_failed}; groups read {self.chats_read}, "
                f"refused {self.chats_failed}; joins {self.joins}; new groups found {self.chats_found}")
        return text + (f"; stopped: {self.stopped}" if self.stopped else "")


def sync_round(*, now: datetime | None = None, limit: int = 50, client=None) -> RoundReport | None:
    """Run one round; None when WeCom is not connected (or paused after a configuration error)."""
    now = now or utcnow()
    connection = active_connection()
    if connection is None or (connection.config_error_at and now - connection.config_error_at < CONFIG_PAUSE):
        return None
    client = client or client_for(connection)
    auto_create_room, listed_at = connection.auto_create_room, connection.chats_listed_at
    _prepare(now)
    report = RoundReport()
    try:
        report.codes_done, report.codes_failed = refresh.refresh_due(client, now=now, limit=limit,
                                                                     auto_create_room=auto_create_room)
        if listed_at is None or now - listed_at >= timedelta(hours=current_app.config["WECOM_CHAT_SYNC_HOURS"]):
            report.chats_found, report.listed = members.discover_chats(client, now=now), True
            active_connection().chats_listed_at = now
            db.session.commit()
        report.chats_read, report.joins, report.chats_failed = members.sync_chats_due(client, now=now, limit=limit)
    except refresh.StopRound as stop:
        report.stopped = stop.error.message
        _stopped(stop.error, now)
    else:
        _healthy(now, called=report.busy or report.listed)
    return report


def _prepare(now: datetime) -> None:
    """Database-only steps: missing codes, followed groups, codes to delete, and now and then a full check."""
    refresh.ensure_join_ways(now)
    members.ensure_chats(now)
    refresh.mark_retirable(now)
    key = str(db.engine.url)
    if now - _last_reconcile.get(key, datetime.min.replace(tzinfo=now.tzinfo)) >= RECONCILE_EVERY:
        refresh.reconcile(now)
        _last_reconcile[key] = now
    db.session.commit()


def _stopped(error, now: datetime) -> None:
    db.session.rollback()
    connection = active_connection()
    if connection is not None and error.kind == ErrorKind.CONFIG:
        connection.config_error, connection.config_error_at = error.message, now
        log.warning("WeCom configuration error, sync paused: %s", error.message)
    db.session.commit()


def _healthy(now: datetime, *, called: bool) -> None:
    connection = active_connection()
    if connection is not None and called:
        connection.last_ok_at = now
        connection.config_error = connection.config_error_at = None
    db.session.commit()


def run_sync(*, once: bool = False, interval: float | None = None, limit: int | None = None,
             echo: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep,
             should_stop: Callable[[], bool] = lambda: False) -> RoundReport | None:
    """Run rounds until stopped (or once); sleep `interval` seconds when a round had nothing to do."""
    config = current_app.config
    interval = config.get("JOINS_SYNC_INTERVAL_S", 5.0) if interval is None else interval
    limit = limit or config.get("WORKER_BATCH", 50)
    while True:
        try:
            report = sync_round(limit=limit)
        except SQLAlchemyError as e:
            db.session.rollback()
            log.exception("joins sync round failed")
            echo(f"database error, trying again: {type(e).__name__}")
            report = None
        if report is not None and (report.busy or report.stopped or report.chats_found):
            echo(report.summary())
        if once:
            return report
        db.session.remove()
        if should_stop():
            return None
        if report is None or not report.busy or report.stopped:
            sleep(interval)
