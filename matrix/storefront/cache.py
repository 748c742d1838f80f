"""Rendered store pages kept for a few seconds in each process, so a crowd scanning a poster costs no queries.

Bounded (least recently used entries go first), so a flood of made-up store codes cannot grow memory.
A change to a store shows on its page once the entry expires (STOREFRONT_CACHE_S).
"""
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

MISSING = object()


class PageCache:
    def __init__(self, max_entries: int = 4096):
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key, *, now: float | None = None):
        """The value kept for `key` if it has not expired, else MISSING."""
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            if entry[0] <= now:
                del self._entries[key]
                return MISSING
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key, value, ttl: float, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._entries[key] = (now + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_make(self, key, make: Callable[[], Any], ttl: float):
        """The kept value, or `make()`'s (kept for `ttl` seconds; 0 keeps nothing)."""
        value = self.get(key)
        if value is MISSING:
            value = make()
            if ttl > 0:
                self.put(key, value, ttl)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


pages = PageCache()  # this process's rendered pages
