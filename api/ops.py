"""Operations endpoints: liveness and readiness."""

from __future__ import annotations

import asyncio

import psycopg
import redis
from fastapi import APIRouter, Request, Response, status

from core.db import connect

router = APIRouter(tags=["operations"])


@router.get("/health", summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _check_postgres(request: Request) -> str | None:
    try:
        with connect(request.app.state.settings) as conn:
            conn.execute("select 1")
    except (psycopg.Error, RuntimeError) as exc:
        return f"postgres: {exc}".strip()
    return None


def _check_redis(request: Request) -> str | None:
    try:
        request.app.state.redis.ping()
    except redis.RedisError as exc:
        return f"redis: {exc}"
    return None


@router.get("/ready", summary="PostgreSQL and Redis are reachable")
async def ready(request: Request, response: Response) -> dict[str, object]:
    problems = [
        p
        for p in await asyncio.gather(
            asyncio.to_thread(_check_postgres, request), asyncio.to_thread(_check_redis, request)
        )
        if p
    ]
    if problems:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable", "problems": problems}
    return {"status": "ok"}
