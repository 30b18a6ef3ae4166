"""GET /stats/*: daily active users, top events and cohort retention, read from the marts only.

Every endpoint answers JSON (`{"meta": …, "data": […]}`) or, for `?format=csv` or
`Accept: text/csv`, RFC 4180 CSV with the meta in `X-Eventmart-*` headers (docs/api.md#read-api).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

import orjson
import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from psycopg_pool import ConnectionPool, PoolTimeout

from api.read_cache import ReadCache
from api.stats_models import DauResponse, RetentionResponse, TopEventsResponse
from loaders.sql_files import query

router = APIRouter(prefix="/stats", tags=["stats"])

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3660
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
RATE_PLACES = Decimal("0.0001")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON by default; CSV for `?format=csv` or `Accept: text/csv`, with "
        "`X-Eventmart-Refreshed-At` and `X-Eventmart-Lag-Seconds` headers",
    },
    503: {"description": "the database is unavailable"},
}

DateParam = Annotated[
    str | None,
    Query(description="UTC date YYYY-MM-DD (inclusive)", examples=["2026-11-01"]),
]
FormatParam = Annotated[
    Literal["json", "csv"] | None,
    Query(alias="format", description="`csv` for CSV (as does `Accept: text/csv`)"),
]


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """What every /stats endpoint takes: the date range and the output format."""

    request: Request
    date_from: str | None
    date_to: str | None
    csv_out: bool


def stats_query(
    request: Request,
    date_from: Annotated[DateParam, Query(alias="from")] = None,
    date_to: Annotated[DateParam, Query(alias="to")] = None,
    output_format: FormatParam = None,
) -> StatsQuery:
    return StatsQuery(request, date_from, date_to, wants_csv(request, output_format))


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the marts hold: refresh times and the latest UTC date with data."""

    refreshed_at: datetime | None
    loaded_through: datetime | None
    latest_date: date | None
    marts_built: bool


def invalid(parameter: str, message: str, value: Any) -> RequestValidationError:
    """A 422 in FastAPI's usual shape, naming the query parameter."""
    return RequestValidationError(
        [
            {
                "type": "value_error",
                "loc": ("query", parameter),
                "msg": f"{parameter}: {message}",
                "input": value,
            }
        ]
    )


def parse_date(value: str | None, parameter: str) -> date | None:
    if value is None:
        return None
    if DATE_PATTERN.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid(parameter, "must be a UTC date YYYY-MM-DD", value)


def resolve_range(start: date | None, end: date | None, latest: date | None) -> tuple[date, date]:
    """The inclusive range asked for; by default the 30 days ending at the latest day with data."""
    end = end or latest or datetime.now(UTC).date()
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise invalid("from", f"{start} is after to ({end})", start.isoformat())
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise invalid("to", f"the range from..to is {days} days, over {MAX_RANGE_DAYS}", str(end))
    return start, end


def wants_csv(request: Request, output_format: str | None) -> bool:
    """`?format=` decides; otherwise `Accept: text/csv` (unless JSON is listed before it)."""
    if output_format is not None:
        return output_format == "csv"
    accepted = [
        part.split(";")[0].strip().lower()
        for part in request.headers.get("accept", "").split(",")
        if part.strip()
    ]
    if "text/csv" not in accepted:
        return False
    return "application/json" not in accepted or (
        accepted.index("text/csv") < accepted.index("application/json")
    )


def read_pool(request: Request) -> ConnectionPool:
    pool: ConnectionPool = request.app.state.read_pool
    return pool


def unavailable(exc: Exception) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"database unavailable: {exc.__class__.__name__}",
        headers={"Retry-After": "5"},
    )


def read_freshness(conn: psycopg.Connection) -> Freshness:
    try:
        row = conn.execute(query("api", "stats_meta")).fetchone()
    except psycopg.errors.UndefinedTable:
        return Freshness(None, None, None, marts_built=False)  # before the first refresh
    assert row is not None
    return Freshness(row[0], row[1], row[2], marts_built=True)


def meta(freshness: Freshness, start: date, end: date, **extra: Any) -> dict[str, Any]:
    loaded = freshness.loaded_through
    lag = None if loaded is None else round((datetime.now(UTC) - loaded).total_seconds(), 3)
    return {
        "from": start,
        "to": end,
        "refreshed_at": freshness.refreshed_at,
        "loaded_through": loaded,
        "lag_seconds": lag,
        **extra,
    }


def json_response(meta_: dict[str, Any], data: list[dict[str, Any]]) -> Response:
    body = orjson.dumps({"meta": meta_, "data": data}, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


def csv_response(
    meta_: dict[str, Any], header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    refreshed = meta_["refreshed_at"]
    headers = {
        "X-Eventmart-Refreshed-At": "" if refreshed is None else iso_utc(refreshed),
        "X-Eventmart-Lag-Seconds": ""
        if meta_["lag_seconds"] is None
        else str(meta_["lag_seconds"]),
    }
    return Response(buffer.getvalue(), media_type=CSV_MEDIA_TYPE, headers=headers)


def table_response(
    meta_: dict[str, Any], columns: Sequence[str], rows: list[tuple[Any, ...]], csv_out: bool
) -> Response:
    """Rows as CSV under a header of `columns`, or as JSON objects keyed by them."""
    if csv_out:
        return csv_response(meta_, columns, rows)
    return json_response(meta_, [dict(zip(columns, row, strict=True)) for row in rows])


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rate(retained: int, size: int) -> float:
    """retained/size rounded half away from zero to 4 places (exact decimal arithmetic)."""
    return float((Decimal(retained) / Decimal(size)).quantize(RATE_PLACES, ROUND_HALF_UP))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_retention(
    cells: Iterable[tuple[date, int, int]], periods: int, step_days: int, latest: date | None
) -> list[dict[str, Any]]:
    """Rows per cohort from sparse (cohort, offset, retained) cells; later periods are null."""
    by_cohort: dict[date, dict[int, int]] = {}
    for cohort, offset, users in cells:
        by_cohort.setdefault(cohort, {})[offset] = users
    rows = []
    for cohort, found in by_cohort.items():
        size = found.get(0, 0)
        if size <= 0:
            continue
        retained: list[int | None] = []
        rates: list[float | None] = []
        for k in range(periods + 1):
            starts = cohort + timedelta(days=k * step_days)
            if latest is None or starts > latest:
                retained.append(None)
                rates.append(None)
            else:
                value = found.get(k, 0)
                retained.append(value)
                rates.append(rate(value, size))
        rows.append({"cohort": cohort, "size": size, "retained": retained, "rate": rates})
    return rows


def run(
    conn: psycopg.Connection, sql_name: str, first: date, last: date, **params: Any
) -> list[tuple[Any, ...]]:
    """Rows of `api/sql/<sql_name>.sql` for the dates first..last (plus extra parameters)."""
    bound = {"date_from": first, "date_to": last, **params}
    return conn.execute(query("api", sql_name), bound).fetchall()


def read_marts(
    stats: StatsQuery,
    key: tuple[Any, ...],
    fetch: Callable[[psycopg.Connection, date, date, Freshness], Any],
) -> tuple[Freshness, date, date, Any]:
    """The shared read path: parse and resolve the range, read freshness, fetch (only once
    the marts are built: before that, no rows), or 503 when PostgreSQL is unreachable.

    Both reads go through the process's `ReadCache`: an answer is computed once per
    endpoint, parameters and refresh (`key` names the endpoint and its extra parameters)."""
    start, end = parse_date(stats.date_from, "from"), parse_date(stats.date_to, "to")
    cache: ReadCache[Freshness] = stats.request.app.state.read_cache
    pool = read_pool(stats.request)

    def with_connection(read: Callable[[psycopg.Connection], Any]) -> Any:
        with pool.connection() as conn:
            return read(conn)

    try:
        freshness = cache.freshness(lambda: with_connection(read_freshness), refresh_token)
        first, last = resolve_range(start, end, freshness.latest_date)
        if not freshness.marts_built:
            return freshness, first, last, []
        rows = cache.answer(
            (*key, first, last),
            refresh_token(freshness),
            lambda: with_connection(lambda conn: fetch(conn, first, last, freshness)),
        )
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise unavailable(exc) from None
    return freshness, first, last, rows


def refresh_token(freshness: Freshness) -> tuple[datetime | None, bool]:
    """What changes whenever the marts may have: the end of the last refresh."""
    return freshness.refreshed_at, freshness.marts_built


@router.get(
    "/dau",
    response_model=DauResponse,
    responses=CSV_DOC,
    summary="Daily active users and events for every date in the range",
)
def get_dau(stats: Annotated[StatsQuery, Depends(stats_query)]) -> Response:
    freshness, start, end, rows = read_marts(
        stats,
        ("dau",),
        lambda conn, first, last, _: run(conn, "dau", first, last),
    )
    if not freshness.marts_built:
        rows = [(start + timedelta(days=i), 0, 0) for i in range((end - start).days + 1)]
    columns = ("date", "active_users", "events")
    return table_response(meta(freshness, start, end), columns, rows, stats.csv_out)


@router.get(
    "/top-events",
    response_model=TopEventsResponse,
    responses=CSV_DOC,
    summary="Event types in the range by events, with their distinct users",
)
def get_top_events(
    stats: Annotated[StatsQuery, Depends(stats_query)],
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many rows")] = 10,
) -> Response:
    freshness, start, end, rows = read_marts(
        stats,
        ("top-events", limit),
        lambda conn, first, last, _: run(conn, "top_events", first, last, row_limit=limit),
    )
    columns = ("event_type", "events", "users")
    meta_ = meta(freshness, start, end, limit=limit)
    return table_response(meta_, columns, rows, stats.csv_out)


@router.get(
    "/retention",
    response_model=RetentionResponse,
    responses=CSV_DOC,
    summary="Cohort retention by first-ever day or ISO week",
)
def get_retention(
    stats: Annotated[StatsQuery, Depends(stats_query)],
    period: Annotated[Literal["day", "week"], Query(description="cohort granularity")] = "day",
    periods: Annotated[int, Query(ge=0, le=366, description="offsets 0..periods")] = 7,
) -> Response:
    weekly = period == "week"

    def fetch(
        conn: psycopg.Connection, first: date, last: date, freshness: Freshness
    ) -> list[dict[str, Any]]:
        if weekly:
            cells = run(
                conn, "retention_weekly", week_start(first), week_start(last), periods=periods
            )
        else:
            cells = run(conn, "retention_daily", first, last, periods=periods)
        return build_retention(cells, periods, 7 if weekly else 1, freshness.latest_date)

    key = ("retention", period, periods)
    freshness, start, end, data = read_marts(stats, key, fetch)
    meta_ = meta(freshness, start, end, period=period, periods=periods)
    if stats.csv_out:
        long_rows = (
            (row["cohort"], row["size"], k, row["retained"][k], row["rate"][k])
            for row in data
            for k in range(periods + 1)
        )
        return csv_response(meta_, ("cohort", "size", "period", "retained", "rate"), long_rows)
    return json_response(meta_, data)
