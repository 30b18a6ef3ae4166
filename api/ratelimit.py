"""Per-client rate limits kept in Redis (the `limits` library), shared by every API process."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import redis
import redis.asyncio
import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from core.redis_conn import redis_url
from core.settings import Settings

log = structlog.get_logger(__name__)


def limits_storage_uri(url: str) -> str:
    """`redis://…`, `rediss://…` or `unix://…` in the form `limits`' async storage takes."""
    if url.startswith("unix://"):
        return "async+redis+" + url
    return "async+" + url


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
        url = redis_url(settings)
        # Our own pool, so that shutdown can close its connections.
        self.pool: redis.asyncio.ConnectionPool = redis.asyncio.ConnectionPool.from_url(
            url, socket_connect_timeout=1, socket_timeout=1
        )
        self.storage = RedisStorage(
            limits_storage_uri(url),
            implementation="redispy",
            wrap_exceptions=True,
            connection_pool=self.pool,  # type: ignore[arg-type]
        )
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.policies: dict[str, RateLimitItem] = {
            "ingest": parse(settings.rate_limit),
            "reads": parse(settings.read_rate_limit),
        }

    async def aclose(self) -> None:
        await self.pool.disconnect()

    async def hit(self, policy: str, identity: str) -> Decision | None:
        """Count one request; None when Redis cannot be reached (fail open)."""
        item = self.policies[policy]
        try:
            allowed = await self.strategy.hit(item, policy, identity)
            stats = await self.strategy.get_window_stats(item, policy, identity)
        except (StorageError, redis.RedisError, OSError) as exc:
            log.warning("rate_limit_unavailable", policy=policy, error=str(exc))
            return None
        window = item.get_expiry()
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        if not allowed:
            reset = max(1, reset)
        headers = {
            # draft-ietf-httpapi-ratelimit-headers (structured fields): quota, window, remaining
            "RateLimit-Policy": f'"{policy}";q={item.amount};w={window}',
            "RateLimit": f'"{policy}";r={stats.remaining};t={reset}',
        }
        if not allowed:
            headers["Retry-After"] = str(reset)
        return Decision(allowed, headers)
