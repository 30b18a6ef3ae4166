"""The one-round-trip sliding window (api/lua/sliding_window.lua) against real Redis."""

from __future__ import annotations

import asyncio
import time

import redis

from api.ratelimit import RateLimiter
from core.settings import Settings


def test_sliding_window_counts_denies_and_recovers(
    settings: Settings, redis_conn: redis.Redis
) -> None:
    async def scenario() -> tuple[list[bool], list[str], str, bool, list[bytes]]:
        limiter = RateLimiter(settings.model_copy(update={"read_rate_limit": "3/second"}))
        try:
            # start just after a window boundary, so all four hits fall in one window
            await asyncio.sleep(1 - time.time() % 1 + 0.01)
            first = [await limiter.hit("reads", "client-a") for _ in range(4)]
            other = await limiter.hit("reads", "client-b")  # a separate budget
            await asyncio.sleep(2.05)  # the previous window no longer weighs anything
            later = await limiter.hit("reads", "client-a")
        finally:
            await limiter.aclose()
        assert all(d is not None for d in first) and other is not None and later is not None
        allowed = [d.allowed for d in first if d is not None]
        remaining = [d.headers["RateLimit"].split(";")[1] for d in first if d is not None]
        retry_after = first[3].headers["Retry-After"] if first[3] is not None else ""
        keys = sorted(redis_conn.keys("eventmart:ratelimit:*"))
        return allowed, remaining, retry_after, other.allowed and later.allowed, keys

    allowed, remaining, retry_after, others_allowed, keys = asyncio.run(scenario())
    assert allowed == [True, True, True, False]
    assert remaining == ["r=2", "r=1", "r=0", "r=0"]
    assert int(retry_after) >= 1
    assert others_allowed
    assert keys and all(redis_conn.ttl(k) > 0 for k in keys)  # nothing stays for ever


def test_leases_never_let_more_through_than_the_limit_across_processes(
    settings: Settings, redis_conn: redis.Redis
) -> None:
    """Two limiters (two API processes) alternate on one client at 300/minute: leases of 3
    hits each; however they interleave, no more than 300 pass, and at most the two lost
    leases' worth fewer."""

    async def scenario() -> int:
        limited = settings.model_copy(update={"read_rate_limit": "300/minute"})
        first, second = RateLimiter(limited), RateLimiter(limited)
        try:
            if time.time() % 60 > 55:  # keep the whole run inside one minute window
                await asyncio.sleep(60 - time.time() % 60 + 0.1)
            allowed = 0
            for n in range(400):
                decision = await (first if n % 3 else second).hit("reads", "client-x")
                assert decision is not None
                allowed += decision.allowed
            return allowed
        finally:
            await first.aclose()
            await second.aclose()

    allowed = asyncio.run(scenario())
    assert 300 - 2 * 3 <= allowed <= 300
