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
