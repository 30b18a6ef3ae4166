"""Per-client rate limits kept in Redis, shared by every API process.

A check is at most one round trip: a Lua script (`api/lua/sliding_window.lua`) counts hits in a
sliding window counter on the Redis server's clock and returns what the RateLimit headers need;
with a high limit, a process takes a few hits at once and spends them locally (`Lease`). The
rate strings (`1000/minute`) are parsed by the `limits` library.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from importlib.resources import files

import redis
import redis.asyncio
import structlog
from cachetools import LRUCache
from limits import RateLimitItem, parse

from core.redis_conn import redis_url
from core.settings import Settings

log = structlog.get_logger(__name__)
KEY_PREFIX = "eventmart:ratelimit"
LEASE_CAP = 50  # hits a process may take from Redis at once
SLIDING_WINDOW = (files("api") / "lua" / "sliding_window.lua").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Decision:
    """The outcome of one hit: allowed or not, and the IETF draft RateLimit headers."""

    allowed: bool
    headers: dict[str, str]


@dataclass
class Lease:
    """Hits granted by Redis ahead of use, spent locally (one round trip per `LEASE_CAP`)."""

    hits: int  # granted and not yet used
    remaining: int  # the client's remaining budget in Redis after the grant
    expires: float  # monotonic; never past the window the hits were counted in
    reset: int  # seconds until the current window ends, at the grant


class RateLimiter:
    """Sliding-window-counter limits per policy (`ingest`, `reads`) and client identity.

    Each process takes hits from Redis in small leases (1 % of the limit, at most `LEASE_CAP`,
    at least 1) and spends them locally for at most a second, within the window they were
    counted in: every hit served was counted in Redis first, so the limit holds across
    processes; a lease a process does not spend is lost, so a client can only be refused a
    little early, never let through too often. A limit under 100 gets leases of one hit: exact.

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
        self.leases: LRUCache[tuple[str, str], Lease] = LRUCache(maxsize=10_000)

    async def aclose(self) -> None:
        await self.client.aclose()  # type: ignore[attr-defined]  # types-redis predates it
        await self.pool.disconnect()

    async def hit(self, policy: str, identity: str) -> Decision | None:
        """Count one request; None when Redis cannot be reached (fail open)."""
        item = self.policies[policy]
        window = item.get_expiry()
        lease = self.leases.get((policy, identity))
        if lease is not None and lease.hits > 0 and time.monotonic() < lease.expires:
            lease.hits -= 1
            return self._decision(policy, item, lease.remaining + lease.hits, 0, lease.reset)
        wanted = max(1, min(LEASE_CAP, item.amount // 100))
        try:
            granted, remaining, wait_ms, window_left_ms = await self.script(
                keys=[f"{KEY_PREFIX}:{policy}:{identity}"], args=[item.amount, window, wanted]
            )
        except (redis.RedisError, OSError) as exc:
            log.warning("rate_limit_unavailable", policy=policy, error=str(exc))
            return None
        reset = math.ceil(window_left_ms / 1000)
        if not granted:
            return self._decision(policy, item, 0, max(1, math.ceil(wait_ms / 1000)), reset)
        expires = time.monotonic() + min(1.0, window_left_ms / 1000)
        self.leases[(policy, identity)] = Lease(granted - 1, remaining, expires, reset)
        return self._decision(policy, item, remaining + granted - 1, 0, reset)

    @staticmethod
    def _decision(
        policy: str, item: RateLimitItem, remaining: int, retry_after: int, reset: int
    ) -> Decision:
        headers = {
            # draft-ietf-httpapi-ratelimit-headers (structured fields): quota, window, remaining
            "RateLimit-Policy": f'"{policy}";q={item.amount};w={item.get_expiry()}',
            "RateLimit": f'"{policy}";r={remaining};t={retry_after or reset}',
        }
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        return Decision(not retry_after, headers)
