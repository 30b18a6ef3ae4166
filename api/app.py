"""The FastAPI application: routers per concern, clients created once per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from api import activity, ingest, ops, stats, trends
from api.auth import GUARD_RESPONSES, check_keys_config, require_read_key, require_write_key
from api.capture import posthog, posthog_stubs, segment
from api.capture.cors import CaptureCORSMiddleware
from api.dashboard.routes import mount_dashboard
from api.fast_reads import FastReadsMiddleware
from api.middleware import RequestContextMiddleware
from api.ratelimit import RateLimiter
from api.read_cache import ReadCache
from core.db import open_read_pool
from core.redis_conn import connect_redis
from core.settings import Settings, get_settings
from jobs.queue import ingest_queue


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; `settings` defaults to the environment's."""
    settings = settings or get_settings()
    check_keys_config(settings)  # production without real keys stops here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis_client = connect_redis(settings)
        app.state.redis = redis_client
        app.state.queue = ingest_queue(redis_client, settings)
        app.state.rate_limiter = RateLimiter(settings)
        app.state.read_pool = open_read_pool(settings)  # /stats reads; opens in the background
        app.state.read_cache = ReadCache(settings.read_cache_seconds, settings.read_cache_entries)
        try:
            yield
        finally:
            app.state.read_pool.close()
            await app.state.rate_limiter.aclose()
            redis_client.close()

    app = FastAPI(
        title="eventmart",
        version="0.1.0",
        summary="Product-analytics events: ingest, marts, read API",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(CaptureCORSMiddleware, origins=settings.cors_origins)
    app.add_middleware(FastReadsMiddleware)  # inside RequestContextMiddleware (added after)
    app.add_middleware(RequestContextMiddleware)
    write_guard, read_guard = [Depends(require_write_key)], [Depends(require_read_key)]
    app.include_router(ingest.router, dependencies=write_guard, responses=GUARD_RESPONSES)
    app.include_router(stats.router, dependencies=read_guard, responses=GUARD_RESPONSES)
    app.include_router(activity.router, dependencies=read_guard, responses=GUARD_RESPONSES)
    app.include_router(trends.router, dependencies=read_guard, responses=GUARD_RESPONSES)
    app.include_router(ops.router)
    # SDK capture routes (docs/sdks.md): they check write keys themselves (keys in the body)
    for capture_router in (segment.router, posthog.router, posthog_stubs.router):
        app.include_router(capture_router)
    mount_dashboard(app)
    openapi = app.openapi

    def openapi_with_limits() -> dict[str, Any]:
        if app.openapi_schema is None:
            ingest.document_limits(openapi(), settings)
        assert app.openapi_schema is not None  # set by `openapi()`
        return app.openapi_schema

    app.openapi = openapi_with_limits  # type: ignore[method-assign]
    return app
