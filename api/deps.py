"""FastAPI dependencies: settings and the clients created once per process (`app.state`).

Routes take them as the `Annotated` aliases below, never through `request.app.state`.
Each getter is `async` so FastAPI calls it on the event loop (a sync one costs a thread hop).
"""

from __future__ import annotations

from typing import Annotated, Any

import redis
from fastapi import Depends, Request
from psycopg_pool import ConnectionPool
from rq import Queue

from api.ratelimit import RateLimiter
from api.read_cache import ReadCache
from core.settings import Settings


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_queue(request: Request) -> Queue:
    queue: Queue = request.app.state.queue
    return queue


async def get_redis(request: Request) -> redis.Redis:
    client: redis.Redis = request.app.state.redis
    return client


async def get_read_pool(request: Request) -> ConnectionPool:
    pool: ConnectionPool = request.app.state.read_pool
    return pool


async def get_read_cache(request: Request) -> ReadCache[Any]:
    cache: ReadCache[Any] = request.app.state.read_cache
    return cache


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
QueueDep = Annotated[Queue, Depends(get_queue)]
RedisDep = Annotated[redis.Redis, Depends(get_redis)]
ReadPoolDep = Annotated[ConnectionPool, Depends(get_read_pool)]
ReadCacheDep = Annotated[ReadCache[Any], Depends(get_read_cache)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
