"""Per-process cache of /stats answers: the marts change only when a refresh ends.

Up to `EVENTMART_READ_CACHE_ENTRIES` answers (default 2048; 0: none) are kept under their
endpoint and parameters for the `refreshed_at` they were read at; a newer `refreshed_at`
empties the cache. A process looks at `marts.refresh_status` at most once per
`EVENTMART_READ_CACHE_SECONDS` (default 1 s; 0: on every request), so an answer is at most
that much older than the last refresh. `lag_seconds` is always computed per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

F = TypeVar("F")  # what a look at the refresh status returns
V = TypeVar("V")


class ReadCache(Generic[F]):
    """Freshness, re-read at most every `seconds`, and answers valid for that freshness.

    Thread-safe: sync endpoints run in a thread pool. Computations run outside the lock;
    two threads missing the same key both compute it (same answer), nothing waits on I/O.
    """

    def __init__(self, seconds: float, entries: int) -> None:
        self.seconds = seconds
        self.entries = entries
        self._lock = threading.Lock()
        self._answers: LRUCache[Hashable, object] = LRUCache(maxsize=max(1, entries))
        self._freshness: F | None = None
        self._token: Hashable = None  # what identifies a refresh (refreshed_at)
        self._read_at = float("-inf")

    def freshness(self, read: Callable[[], F], token: Callable[[F], Hashable]) -> F:
        """The last freshness read if younger than `seconds`, else `read()` (which also
        empties the answers when its token differs from the previous one)."""
        now = time.monotonic()
        with self._lock:
            if self._freshness is not None and now - self._read_at < self.seconds:
                return self._freshness
        fresh = read()
        with self._lock:
            if now < self._read_at:  # a read that began later already landed: keep the newer
                return fresh
            new_token = token(fresh)
            if new_token != self._token:
                self._answers.clear()
                self._token = new_token
            self._freshness, self._read_at = fresh, now
        return fresh

    def peek(self, key: Callable[[F], Hashable]) -> tuple[F, object] | None:
        """Without I/O: the freshness still trusted and the answer stored under `key(freshness)`
        for it, or None when either would need a read (the caller then reads in a thread)."""
        now = time.monotonic()
        with self._lock:
            fresh = self._freshness
            if fresh is None or now - self._read_at >= self.seconds:
                return None
            wanted = key(fresh)
            if wanted not in self._answers:
                return None
            return fresh, self._answers[wanted]

    def put(self, key: Hashable, token: Hashable, value: object) -> None:
        """Keep `value` under `key` while `token` is the current refresh."""
        if self.entries <= 0:
            return
        with self._lock:
            if token == self._token:
                self._answers[key] = value

    def answer(self, key: Hashable, token: Hashable, compute: Callable[[], V]) -> V:
        """The cached answer for `key` at this freshness token, else `compute()` (stored)."""
        if self.entries <= 0:
            return compute()
        with self._lock:
            if token == self._token and key in self._answers:
                return self._answers[key]  # type: ignore[return-value]
        value = compute()
        self.put(key, token, value)
        return value
