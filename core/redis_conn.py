"""The Redis connection used by the queue, rate limits and readiness checks."""

from __future__ import annotations

import redis

from core.settings import Settings


def redis_url(settings: Settings) -> str:
    """The configured Redis URL; `eventmart dev` sets it for the embedded server."""
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set: export it, or run `eventmart dev` for an embedded Redis"
        )
    return settings.redis_url


def connect_redis(settings: Settings) -> redis.Redis:
    """A Redis client with short timeouts so a dead server fails fast, never hangs."""
    return redis.Redis.from_url(
        redis_url(settings),
        socket_connect_timeout=2,
        socket_timeout=settings.wait_timeout + 5,  # ?wait=true blocks on XREAD
        health_check_interval=30,
    )
