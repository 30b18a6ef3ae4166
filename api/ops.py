"""Operations endpoints: liveness, readiness and Prometheus metrics (all open, no key)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import psycopg
import redis
from fastapi import APIRouter, Response, status
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg_pool import ConnectionPool, PoolTimeout
from rq import Queue

from api.deps import QueueDep, ReadPoolDep, RedisDep, SettingsDep
from core.db import connect
from core.metrics import CallbackCollector, gauge, render_metrics
from core.settings import Settings
from jobs.refresh import read_refresh_status

router = APIRouter(tags=["operations"])


@router.get("/health", summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _check_postgres(settings: Settings) -> str | None:
    try:
        with connect(settings) as conn:
            conn.execute("select 1")
    except (psycopg.Error, RuntimeError) as exc:
        return f"postgres: {exc}".strip()
    return None


def _check_redis(client: redis.Redis) -> str | None:
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"redis: {exc}"
    return None


@router.get("/ready", summary="PostgreSQL and Redis are reachable")
async def ready(
    response: Response, settings: SettingsDep, redis_client: RedisDep
) -> dict[str, object]:
    problems = [
        p
        for p in await asyncio.gather(
            asyncio.to_thread(_check_postgres, settings),
            asyncio.to_thread(_check_redis, redis_client),
        )
        if p
    ]
    if problems:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable", "problems": problems}
    return {"status": "ok"}


def queue_metrics(queue: Queue) -> Iterator[Metric]:
    """Queue depth read from Redis at scrape time (every API process sees the same queue)."""
    try:
        depth = queue.count
        states = {
            "started": queue.started_job_registry.get_job_count(cleanup=False),
            "scheduled": queue.scheduled_job_registry.get_job_count(cleanup=False),
            "failed": queue.failed_job_registry.get_job_count(cleanup=False),
        }
    except redis.RedisError:
        yield gauge("eventmart_redis_up", "Redis answered the last scrape", 0)
        return
    yield gauge("eventmart_redis_up", "Redis answered the last scrape", 1)
    yield gauge(
        "eventmart_queue_depth",
        "Batches waiting in the ingest queue (503 above EVENTMART_MAX_QUEUE_DEPTH)",
        depth,
        {"queue": queue.name},
    )
    jobs = GaugeMetricFamily(
        "eventmart_queue_jobs",
        "Ingest jobs running, waiting for a retry, or failed for good",
        labels=["queue", "state"],
    )
    for state, count in states.items():
        jobs.add_metric([queue.name, state], count)
    yield jobs


def freshness_metrics(pool: ConnectionPool) -> Iterator[Metric]:
    """How far the marts trail raw.events, read from PostgreSQL at scrape time."""
    try:
        with pool.connection(timeout=2) as conn:  # the read API's pool: no connect per scrape
            refreshed_at, loaded_through = read_refresh_status(conn)
    except (psycopg.Error, PoolTimeout):
        return  # PostgreSQL down: /ready says so; the scrape still answers
    if refreshed_at is not None:
        yield gauge(
            "eventmart_marts_refreshed_at_timestamp_seconds",
            "When the last successful mart refresh ended (Unix time)",
            refreshed_at.timestamp(),
        )
    if loaded_through is not None:
        yield gauge(
            "eventmart_freshness_lag_seconds",
            "now - the newest raw.events loaded_at the marts include",
            max(0.0, time.time() - loaded_through.timestamp()),
        )


@router.get(
    "/metrics",
    summary="Prometheus metrics (all API processes, plus queue depth)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(queue: QueueDep, pool: ReadPoolDep) -> Response:
    payload, content_type = render_metrics(
        [
            CallbackCollector(lambda: queue_metrics(queue)),
            CallbackCollector(lambda: freshness_metrics(pool)),
        ]
    )
    return Response(payload, media_type=content_type)
