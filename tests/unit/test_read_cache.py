"""ReadCache: answers live as long as the refresh they were read at, freshness for `seconds`."""

from __future__ import annotations

import time

from api.read_cache import ReadCache


class Status:
    """A stand-in for marts.refresh_status that counts how often it is read."""

    def __init__(self) -> None:
        self.refreshed_at = 1
        self.reads = 0

    def read(self) -> int:
        self.reads += 1
        return self.refreshed_at


def same(value: int) -> int:
    return value


def test_answers_are_computed_once_per_refresh() -> None:
    cache: ReadCache[int] = ReadCache(seconds=0, entries=10)
    status, computed = Status(), []

    def answer(key: str) -> str:
        token = cache.freshness(status.read, same)
        return cache.answer(key, token, lambda: computed.append(key) or f"{key}@{token}")

    assert [answer("a"), answer("a"), answer("b")] == ["a@1", "a@1", "b@1"]
    assert computed == ["a", "b"]
    status.refreshed_at = 2  # a refresh ended
    assert answer("a") == "a@2"
    assert computed == ["a", "b", "a"]
    assert status.reads == 4  # seconds=0: the status is read on every request


def test_freshness_is_trusted_for_seconds_then_read_again() -> None:
    cache: ReadCache[int] = ReadCache(seconds=0.2, entries=10)
    status = Status()
    assert cache.freshness(status.read, same) == 1
    status.refreshed_at = 2
    assert cache.freshness(status.read, same) == 1  # within 0.2 s: not read again
    assert status.reads == 1
    time.sleep(0.25)
    assert cache.freshness(status.read, same) == 2
    assert status.reads == 2


def test_no_entries_means_no_answer_cache_and_lru_bounds_the_rest() -> None:
    off: ReadCache[int] = ReadCache(seconds=0, entries=0)
    calls: list[int] = []
    for _ in range(3):
        off.answer("k", None, lambda: calls.append(1))
    assert len(calls) == 3

    small: ReadCache[int] = ReadCache(seconds=0, entries=2)
    token = small.freshness(Status().read, same)
    computed: list[str] = []
    for key in ["a", "b", "c", "a"]:  # "a" was evicted by "c"
        small.answer(key, token, lambda key=key: computed.append(key))
    assert computed == ["a", "b", "c", "a"]


def test_an_answer_computed_for_an_older_refresh_is_not_stored() -> None:
    cache: ReadCache[int] = ReadCache(seconds=0, entries=10)
    status = Status()
    old = cache.freshness(status.read, same)
    status.refreshed_at = 2
    new = cache.freshness(status.read, same)  # another request saw the new refresh first
    assert cache.answer("k", old, lambda: "old") == "old"
    assert cache.answer("k", new, lambda: "new") == "new"


def test_peek_answers_only_what_needs_no_read() -> None:
    cache: ReadCache[int] = ReadCache(seconds=0.2, entries=10)
    status = Status()
    assert cache.peek(lambda fresh: ("k", fresh)) is None  # no freshness yet
    token = cache.freshness(status.read, same)
    assert cache.peek(lambda fresh: ("k", fresh)) is None  # no answer yet
    cache.answer(("k", token), token, lambda: "answer")
    assert cache.peek(lambda fresh: ("k", fresh)) == (1, "answer")
    assert cache.peek(lambda fresh: ("other", fresh)) is None
    time.sleep(0.25)
    assert cache.peek(lambda fresh: ("k", fresh)) is None  # freshness must be read again
    assert status.reads == 1  # peek itself never reads
