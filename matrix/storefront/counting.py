"""Views and join clicks of store pages, counted in memory and added to the database every few seconds.

A page view must not cost a database write: each process keeps its counts per store, channel and local
day, and a flusher thread adds them with one UPSERT per row (`views = views + n`), so any number of
processes add up correctly. Nothing about the visitor is kept: no address, no agent, no cookie.
A process killed hard loses at most its last few seconds of counts.
"""
import atexit
import logging
import os
import threading
import time
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from matrix.extensions import db
from matrix.storefront.models import PageCount
from matrix.stores.models import Store

log = logging.getLogger(__name__)
Key = tuple[int, str, date]
UPSERT_ROWS = 1000  # rows per statement: 5,000 parameters, within SQLite's and PostgreSQL's limits


class PageCounter:
    """One process's counts not yet in the database: (store, channel, day) -> [views, join clicks]."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[Key, list[int]] = {}
        self.flusher_pid: int | None = None

    def add(self, key: Key, *, views: int = 0, joins: int = 0) -> None:
        with self._lock:
            row = self._counts.get(key)
            if row is None:
                self._counts[key] = [views, joins]
            else:
                row[0] += views
                row[1] += joins

    def take(self) -> dict[Key, list[int]]:
        """Everything counted so far; the counter starts again from nothing."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def put_back(self, counts: dict[Key, list[int]]) -> None:
        """Counts a failed flush could not write: kept for the next one."""
        for key, (views, joins) in counts.items():
            self.add(key, views=views, joins=joins)

    def pending(self) -> dict[Key, list[int]]:
        with self._lock:
            return {k: list(v) for k, v in self._counts.items()}


counter = PageCounter()  # this process's


def local_day(zone: str, now: datetime | None = None) -> date:
    """The chain's calendar day, which the report's days are."""
    return (now or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)).date()


def count_view(store_id: int, channel: str, *, zone: str, now: datetime | None = None) -> None:
    """One view of a store's page from `channel` (no database write)."""
    counter.add((store_id, channel, local_day(zone, now)), views=1)


def count_join(store_id: int, channel: str, *, zone: str, now: datetime | None = None) -> None:
    """One click on a store page's join button from `channel` (no database write)."""
    counter.add((store_id, channel, local_day(zone, now)), joins=1)


def flush_counts(source: PageCounter | None = None) -> int:
    """Add the pending counts to the database in one transaction; the number of rows written."""
    source = source or counter
    counts = source.take()
    if not counts:
        return 0
    try:
        live = _existing_stores({store_id for store_id, _c, _d in counts})
        rows = [{"store_id": s, "channel": c, "day": d, "views": v, "join_clicks": j}
                for (s, c, d), (v, j) in counts.items() if s in live]
        upsert_counts(rows)
        db.session.commit()
    except Exception:
        db.session.rollback()
        source.put_back(counts)
        raise
    return len(rows)


def upsert_counts(rows: list[dict]) -> None:
    """Add rows of counts to the table: insert new (store, channel, day) rows, add to existing ones."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    for start in range(0, len(rows), UPSERT_ROWS):
        statement = insert(PageCount).values(rows[start:start + UPSERT_ROWS])
        statement = statement.on_conflict_do_update(
            index_elements=[PageCount.store_id, PageCount.channel, PageCount.day],
            set_={"views": PageCount.views + statement.excluded.views,
                  "join_clicks": PageCount.join_clicks + statement.excluded.join_clicks})
        db.session.execute(statement)


def _existing_stores(ids: Iterable[int]) -> set[int]:
    # A store deleted since its page was viewed: its counts go, the others are written.
    return set(db.session.scalars(select(Store.id).where(Store.id.in_(list(ids)))))


_start_lock = threading.Lock()


def ensure_flusher(app: Flask) -> None:
    """Start this process's flusher thread once (again after a fork); STOREFRONT_FLUSH_S 0 means never."""
    if counter.flusher_pid == os.getpid():
        return
    interval = float(app.config.get("STOREFRONT_FLUSH_S") or 0)
    if interval <= 0:
        return
    with _start_lock:
        if counter.flusher_pid == os.getpid():
            return
        counter.flusher_pid = os.getpid()
        threading.Thread(target=_flush_loop, args=(app, interval), name="storefront-counts", daemon=True).start()
        atexit.register(_flush_once, app)


def _flush_loop(app: Flask, interval: float) -> None:
    while True:
        time.sleep(interval)
        _flush_once(app)


def _flush_once(app: Flask) -> None:
    with app.app_context():
        try:
            flush_counts()
        except Exception:  # noqa: BLE001 - the counts are kept for the next round; a page never fails for them
            log.exception("store page counts could not be written; kept for the next flush")
        finally:
            db.session.remove()
