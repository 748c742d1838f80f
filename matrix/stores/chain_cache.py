"""Summaries over the whole chain kept per process: rebuilt when the chain changed, or after a while.

HQ's list pages would otherwise read every store (and account) for their filters and totals on every
request: 2-25 ms each at 10,000 stores. A summary (cities, coverage per city) is checked against a cheap
fingerprint of the rows it was built from at most every CHAIN_CACHE_CHECK_S seconds, so a change made
in any process shows within that time. A report's figures (a week's completion, leads per source), whose
rows have no cheap fingerprint, are reused for REPORT_CACHE_S seconds. 0 turns either off: the tests,
whose pages must send the same queries every time. Callers must treat what they get as read-only: it is
shared.
"""
import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select

from matrix.extensions import db
from matrix.stores.models import Store

T = TypeVar("T")

_cache: dict[Hashable, tuple[object, tuple, float]] = {}
_lock = threading.Lock()


def store_fingerprint() -> tuple:
    """Cheap summary that changes whenever any process adds, changes or removes a store through the ORM.

    Every ORM update bumps Store.version (version_id_col) and updated_at; raw SQL must do the same.
    """
    count, latest, versions = db.session.execute(
        select(func.count(Store.id), func.max(Store.updated_at), func.coalesce(func.sum(Store.version), 0))).one()
    return int(count), str(latest), int(versions)


def chain_summary(name: Hashable, build: Callable[[], T], *,
                  fingerprint: Callable[[], tuple] = store_fingerprint) -> T:
    """This process's `name` summary, built by `build` again when `fingerprint` moved since it was made."""
    key = (str(db.engine.url), name)
    check_every_s = float(current_app.config.get("CHAIN_CACHE_CHECK_S", 2.0))
    if check_every_s <= 0:
        return build()
    now = time.monotonic()
    cached = _cache.get(key)
    if cached and now - cached[2] < check_every_s:
        return cached[0]  # type: ignore[return-value]
    mark = fingerprint()
    with _lock:
        cached = _cache.get(key)
        if cached and cached[1] == mark:
            _cache[key] = (cached[0], mark, now)
            return cached[0]  # type: ignore[return-value]
        value = build()
        _cache[key] = (value, mark, now)
        return value


def report_figures(name: Hashable, build: Callable[[], T]) -> T:
    """What `build` gave for `name` in this process less than REPORT_CACHE_S seconds ago, else build it now."""
    keep_s = float(current_app.config.get("REPORT_CACHE_S", 60))
    if keep_s <= 0:
        return build()
    key = (str(db.engine.url), "report", name)
    cached = _cache.get(key)
    now = time.monotonic()
    if cached and now - cached[2] < keep_s:
        return cached[0]  # type: ignore[return-value]
    value = build()
    with _lock:
        _cache[key] = (value, (), now)
    return value


def forget_summaries() -> None:
    """Drop every cached summary and report (tests, or after a bulk change made with raw SQL)."""
    _cache.clear()
