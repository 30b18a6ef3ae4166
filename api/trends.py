"""GET /stats/trends: an event type per local day, broken down by the values of one property.

Each day has a row for every one of the top ten values over the range (by events, ties by
value in code-point order), one `$other` row (every other value together: its users are the
distinct users with any of them that day) and one `$none` row (events without the property),
zeros included. Only the properties in EVENTMART_BREAKDOWN_PROPERTIES are held by the marts
(dbt_project/models: int_user_property_days, fct_daily_property_values); docs/api.md#trends.
Served through the shared /stats read path (api/stats.py) and so from the answer cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query, Response

from api.deps import SettingsDep
from api.event_filters import EventTypeName
from api.stats import Freshness, StatsDep, invalid, read_marts, respond, run, stats_route
from api.stats_models import TrendsResponse
from api.stats_render import prepare_table

router = APIRouter(prefix="/stats", tags=["stats"])

TOP_VALUES = 10
# The `value` of the synthetic rows; their `bucket` tells them from a real value spelled so.
SYNTHETIC = (("other", "$other"), ("none", "$none"))
COLUMNS = ("date", "bucket", "value", "events", "users")

Row = tuple[date, str, str, int, int]


def trend_rows(
    found: Sequence[tuple[Any, ...]], start: date, end: date
) -> tuple[list[str], list[Row]]:
    """(top values in rank order, every row of the answer) from the SQL's sparse rows
    (date, bucket, rank, value, events, users): each day of start..end gets the top values,
    then `$other`, then `$none`, with zeros where the marts have nothing."""
    ranked = sorted({(rank, value) for _, bucket, rank, value, _, _ in found if bucket == "value"})
    top = [value for _, value in ranked]
    cells = {
        (day, bucket, value): (events, users) for day, bucket, _, value, events, users in found
    }
    rows: list[Row] = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        for value in top:
            rows.append((day, "value", value, *cells.get((day, "value", value), (0, 0))))
        for bucket, label in SYNTHETIC:
            rows.append((day, bucket, label, *cells.get((day, bucket, None), (0, 0))))
    return top, rows


def read_trends(
    conn: psycopg.Connection, first: date, last: date, tz: str, event_type: str, breakdown: str
) -> tuple[list[str], list[Row]]:
    try:
        found = run(
            conn,
            "trends",
            tz,
            first,
            last,
            event_type=event_type,
            property=breakdown,
            top=TOP_VALUES,
        )
    except psycopg.errors.UndefinedTable:  # marts built before the breakdown models existed
        found = []
    return trend_rows(found, first, last)


@stats_route(
    "/trends",
    TrendsResponse,
    "An event type per day: events and users for the top values of a property",
    on=router,
)
async def get_trends(
    stats: StatsDep,
    settings: SettingsDep,
    event_type: Annotated[EventTypeName, Query(description="the event type to count")],
    breakdown: Annotated[
        str,
        Query(
            min_length=1,
            description="the property to break down by: one of EVENTMART_BREAKDOWN_PROPERTIES",
            examples=["path"],
        ),
    ],
) -> Response:
    allowed = settings.breakdown_properties
    if breakdown not in allowed:
        listed = ", ".join(allowed) if allowed else "none are configured"
        rule = f"not a breakdown property (EVENTMART_BREAKDOWN_PROPERTIES): allowed are {listed}"
        raise invalid("breakdown", rule, breakdown)

    def fetch(
        conn: psycopg.Connection, first: date, last: date, _: Freshness
    ) -> tuple[list[str], list[Row]]:
        return read_trends(conn, first, last, stats.tz, event_type, breakdown)

    key = ("trends", event_type, breakdown)
    freshness, start, end, answer = await read_marts(stats, key, fetch)
    top, rows = answer or trend_rows([], start, end)  # no marts yet: zeros
    prepared = prepare_table(COLUMNS, rows, stats.csv_out)
    extra = {"event_type": event_type, "breakdown": breakdown, "values": top}
    return respond(stats, freshness, start, end, prepared, **extra)
