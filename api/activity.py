"""GET /stats/active-users: distinct users over rolling windows of 1, 7, 28 or 30 days ending
each day, with DAU, MAU and stickiness, optionally of some event types (docs/api.md#read-api).

Read like every /stats endpoint (api/stats.py: `StatsDep`, `read_marts`, `respond`; exact
repeats from api/fast_reads.py). The windows are sums over day gaps (marts.fct_user_day_gaps,
api/sql/active_users.sql), so a day after the last event still has its window.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import IntEnum
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query, Response

from api.event_filters import EventTypesParam, distinct_types
from api.stats import StatsDep, rate, read_marts, respond, run, stats_route
from api.stats_models import ActiveUsersResponse
from api.stats_render import prepare_table

router = APIRouter(prefix="/stats", tags=["stats"])

COLUMNS = ("date", "active_users", "dau", "mau", "stickiness")


class Window(IntEnum):
    """The window lengths served, in days (a day, a week, four weeks, a month of 30 days)."""

    DAY = 1
    WEEK = 7
    FOUR_WEEKS = 28
    MONTH = 30


def source(types: tuple[str, ...]) -> str:
    """Where active_users.sql reads the day gaps of the users asked for."""
    if not types:
        return "all"  # marts.fct_user_day_gaps
    return "type" if len(types) == 1 else "types"  # fct_event_type_reach / at query time


def active_user_rows(
    conn: psycopg.Connection, first: date, last: date, tz: str, window: int, types: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    rows = run(
        conn,
        "active_users",
        tz,
        first,
        last,
        window_days=window,
        source=source(types),
        event_types=list(types),
    )
    return [
        (day, users, dau, mau, rate(dau, mau) if mau else None) for day, users, dau, mau in rows
    ]


@stats_route(
    "/active-users",
    ActiveUsersResponse,
    "Distinct users in the window of days ending each date, with DAU, MAU and stickiness",
    router,
)
async def get_active_users(
    stats: StatsDep,
    window: Annotated[
        Window, Query(description="days per window, ending at each date: 1, 7, 28 or 30")
    ] = Window.WEEK,
    event_type: EventTypesParam = None,
) -> Response:
    days, types = int(window), distinct_types(event_type)
    freshness, start, end, rows = await read_marts(
        stats,
        ("active-users", days, types),
        lambda conn, first, last, _: active_user_rows(conn, first, last, stats.tz, days, types),
    )
    if not freshness.marts_built:
        span = (end - start).days + 1
        rows = [(start + timedelta(days=i), 0, 0, 0, None) for i in range(span)]
    prepared = prepare_table(COLUMNS, rows, stats.csv_out)
    return respond(stats, freshness, start, end, prepared, window=days, event_type=list(types))
