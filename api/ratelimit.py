"""Per-client rate limits kept in Redis, shared by every API process.

One check is one round trip: a Lua script (`api/lua/sliding_window.lua`) counts the hit in a
sliding window counter on the Redis server's clock and returns what the RateLimit headers need.
The rate strings (`1000/minute`) are parsed by the `limits` library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.resources import files

import redis
import redis.asyncio
import structlog
from limits import RateLimitItem, parse

from core.redis_conn import redis_url
from core.settings import Settings

log = structlog.get_logger(__name__)
KEY_PREFIX = "eventmart:ratelimit"
SLIDING_WINDOW = (files("api") / "lua" / "sliding_window.lua").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Decision:
    """The outcome of one hit: allowed or not, and the IETF draft RateLimit headers."""

    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """Sliding-window-counter limits per policy (`ingest`, `reads`) and client identity.

    Redis errors never fail a request here: the limiter lets it through and logs a warning
    (ingest then answers 503 on its own when the queue is unreachable).
    """

    def __init__(self, settings: Settings) -> None:
        # Our own pool, so that shutdown can close its connections.
        self.pool: redis.asyncio.ConnectionPool = redis.asyncio.ConnectionPool.from_url(
            redis_url(settings), socket_connect_timeout=1, socket_timeout=1
        )
        self.client = redis.asyncio.Redis(connection_pool=self.pool)
        self.script = self.client.register_script(SLIDING_WINDOW)  # EVALSHA, EVAL once
        self.policies: dict[str, RateLimitItem] = {
            "ingest": parse(settings.rate_limit),
            "reads": parse(settings.read_rate_limit),
        }

    async def aclose(self) -> None:
        await self.client.aclose()  # type: ignore[attr-defined]  # types-redis predates it
        await self.pool.disconnect()

    async def hit(self, policy: str, identity: str) -> Decision | None:
        """Count one request; None when Redis cannot be reached (fail open)."""
        item = self.policies[policy]
        window = item.get_expiry()
        try:
            allowed, remaining, wait_ms, window_left_ms = await self.script(
                keys=[f"{KEY_PREFIX}:{policy}:{identity}"], args=[item.amount, window]
            )
        except (redis.RedisError, OSError) as exc:
            log.warning("rate_limit_unavailable", policy=policy, error=str(exc))
            return None
        reset = (
            max(1, math.ceil(wait_ms / 1000)) if not allowed else math.ceil(window_left_ms / 1000)
        )
        headers = {
            # draft-ietf-httpapi-ratelimit-headers (structured fields): quota, window, remaining
            "RateLimit-Policy": f'"{policy}";q={item.amount};w={window}',
            "RateLimit": f'"{policy}";r={remaining};t={reset}',
        }
        if not allowed:
            headers["Retry-After"] = str(reset)
        return Decision(bool(allowed), headers)
