"""The seed's design: every /stats answer aggregated from raw.events per request.

Served through the same app as ours (guards, middleware, pool), under `/seed/stats/*`, so the
benchmark compares the designs and nothing else. Both `from` and `to` are required.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Response

from api.app import create_app
from api.auth import require_read_key
from api.deps import ReadPoolDep
from api.stats import build_retention, parse_date, week_start
from api.stats_render import json_response, table_response
from core.logging import configure_logging
from core.settings import get_settings
from core.sql_files import query

router = APIRouter(prefix="/seed/stats", dependencies=[Depends(require_read_key)])


def _meta(first: date, last: date) -> dict[str, Any]:
    return {"from": first, "to": last, "refreshed_at": None, "lag_seconds": None}


async def _rows(pool: ReadPoolDep, name: str, **params: Any) -> list[tuple[Any, ...]]:
    def read() -> list[tuple[Any, ...]]:
        with pool.connection() as conn:
            return conn.execute(query("tests.peers", name), params).fetchall()

    return await asyncio.to_thread(read)


def seed_range(
    date_from: Annotated[str, Query(alias="from")], date_to: Annotated[str, Query(alias="to")]
) -> tuple[date, date]:
    first, last = parse_date(date_from, "from"), parse_date(date_to, "to")
    assert first is not None and last is not None
    return first, last


Span = Annotated[tuple[date, date], Depends(seed_range)]


@router.get("/dau")
async def seed_dau(pool: ReadPoolDep, span: Span) -> Response:
    rows = await _rows(pool, "seed_dau", date_from=span[0], date_to=span[1])
    return table_response(_meta(*span), ("date", "active_users", "events"), rows, False)


@router.get("/top-events")
async def seed_top_events(pool: ReadPoolDep, span: Span, limit: int = 10) -> Response:
    rows = await _rows(pool, "seed_top_events", date_from=span[0], date_to=span[1], row_limit=limit)
    return table_response(_meta(*span), ("event_type", "events", "users"), rows, False)


@router.get("/retention")
async def seed_retention(
    pool: ReadPoolDep, span: Span, period: Literal["day", "week"] = "day", periods: int = 7
) -> Response:
    step = 7 if period == "week" else 1
    first, last = (week_start(d) for d in span) if step == 7 else span
    cells = await _rows(
        pool, "seed_retention", date_from=first, date_to=last, periods=periods, step_days=step
    )
    latest = await _rows(pool, "seed_latest_day")
    return json_response(_meta(*span), build_retention(cells, periods, step, latest[0][0]))


def create_seed_app() -> FastAPI:
    """Our app plus the seed design's routes (uvicorn factory), logging as `api.main`'s."""
    configure_logging(get_settings(), "api")
    app = create_app()
    app.include_router(router)
    return app
