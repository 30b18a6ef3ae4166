"""GET /stats/*: daily active users, top events and cohort retention, read from the marts only.

Every endpoint answers JSON (`{"meta": …, "data": […]}`) or, for `?format=csv` or
`Accept: text/csv`, RFC 4180 CSV with the meta in `X-Eventmart-*` headers (docs/api.md#read-api).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.types import Scope

from api.deps import ReadCacheDep, ReadPoolDep, SettingsDep
from api.event_filters import EventTypesParam, ReturnEventParam, StartEventParam, distinct_types
from api.read_cache import ReadCache
from api.stats_models import DauResponse, RetentionResponse, TopEventsResponse
from api.stats_render import Prepared, meta, prepare_csv, prepare_json, prepare_table
from core.sql_files import query

router = APIRouter(prefix="/stats", tags=["stats"])

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3660
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
RATE_PLACES = Decimal("0.0001")
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
    Query(description="local date YYYY-MM-DD in zone `tz` (inclusive)", examples=["2026-11-01"]),
]
TzParam = Annotated[
    str | None,
    Query(
        description="IANA zone of the calendar days (one of EVENTMART_TIMEZONES; default: the "
        "first of them)",
        examples=["Europe/Kyiv"],
    ),
]
FormatParam = Annotated[
    Literal["json", "csv"] | None,
    Query(alias="format", description="`csv` for CSV (as does `Accept: text/csv`)"),
]


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """What every /stats endpoint takes: the date range and its zone, the output format,
    where to read."""

    pool: ConnectionPool
    cache: ReadCache[Freshness]
    date_from: str | None
    date_to: str | None
    tz: str  # a configured reporting zone: the days are its local calendar days
    csv_out: bool
    response_key: tuple[Any, ...]  # the request as sent: what api/fast_reads.py looks up
    route: Any  # the matched route, kept with the response so repeats are labelled as it


@dataclass(frozen=True, slots=True)
class KeptResponse:
    """A /stats response kept for repeats of its request (api/fast_reads.py)."""

    route: Any
    render: Callable[[], Response]


def response_key(scope: Scope) -> tuple[Any, ...]:
    """A GET /stats request's identity for the response cache: path, query string, Accept."""
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    return ("response", scope["path"], scope["query_string"], accept)


async def stats_query(
    request: Request,
    settings: SettingsDep,
    pool: ReadPoolDep,
    cache: ReadCacheDep,
    date_from: Annotated[DateParam, Query(alias="from")] = None,
    date_to: Annotated[DateParam, Query(alias="to")] = None,
    tz: TzParam = None,
    output_format: FormatParam = None,
) -> StatsQuery:
    zone = reporting_zone(tz, settings.timezones)
    csv_out = wants_csv(request, output_format)
    scope = request.scope
    return StatsQuery(
        pool, cache, date_from, date_to, zone, csv_out, response_key(scope), scope.get("route")
    )


def reporting_zone(tz: str | None, configured: list[str]) -> str:
    """`tz` when it is a configured reporting zone (the marts hold only those); by default
    the first configured one."""
    if tz is None:
        return configured[0]
    if tz not in configured:
        raise invalid("tz", f"must be one of the configured zones: {', '.join(configured)}", tz)
    return tz


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the marts hold: refresh times and, per zone, the latest local date with data."""

    refreshed_at: datetime | None
    loaded_through: datetime | None
    latest_dates: tuple[tuple[str, date], ...]  # (tz, latest date) of every built zone
    marts_built: bool

    def latest_in(self, tz: str) -> date | None:
        """The latest local date in zone `tz` with data (None: none, or zone not built)."""
        return next((latest for zone, latest in self.latest_dates if zone == tz), None)


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
    raise invalid(parameter, "must be a date YYYY-MM-DD", value)


def resolve_range(
    start: date | None, end: date | None, latest: date | None, tz: str = "UTC"
) -> tuple[date, date]:
    """The inclusive range asked for; by default the 30 days ending at the latest day with data
    (or today in zone `tz`)."""
    end = end or latest or datetime.now(ZoneInfo(tz)).date()
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
        return Freshness(None, None, (), marts_built=False)  # before the first refresh
    assert row is not None
    latest = tuple(sorted((tz, date.fromisoformat(day)) for tz, day in (row[2] or {}).items()))
    return Freshness(row[0], row[1], latest, marts_built=True)


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
    conn: psycopg.Connection, sql_name: str, tz: str, first: date, last: date, **params: Any
) -> list[tuple[Any, ...]]:
    """Rows of `api/sql/<sql_name>.sql` for the local dates first..last of zone `tz` (plus
    extra parameters)."""
    bound = {"tz": tz, "date_from": first, "date_to": last, **params}
    return conn.execute(query("api", sql_name), bound).fetchall()


async def read_marts(
    stats: StatsQuery,
    key: tuple[Any, ...],
    fetch: Callable[[psycopg.Connection, date, date, Freshness], Any],
) -> tuple[Freshness, date, date, Any]:
    """The shared read path: parse and resolve the range, read freshness, fetch (only once
    the marts are built: before that, no rows), or 503 when PostgreSQL is unreachable.

    Both reads go through the process's `ReadCache`: an answer is computed once per
    endpoint, parameters, zone and refresh (`key` names the endpoint and its extra
    parameters; the zone is added here). A cached answer is served on the event loop;
    anything that needs PostgreSQL runs in a thread."""
    start, end = parse_date(stats.date_from, "from"), parse_date(stats.date_to, "to")
    key = (*key, stats.tz)

    def cache_key(freshness: Freshness) -> tuple[Any, ...]:
        return (*key, *resolve_range(start, end, freshness.latest_in(stats.tz), stats.tz))

    hit = stats.cache.peek(cache_key)
    if hit is not None:
        freshness, rows = hit
        first, last = resolve_range(start, end, freshness.latest_in(stats.tz), stats.tz)
        return freshness, first, last, rows
    return await asyncio.to_thread(read_through, stats, start, end, key, fetch)


def read_through(
    stats: StatsQuery,
    start: date | None,
    end: date | None,
    key: tuple[Any, ...],
    fetch: Callable[[psycopg.Connection, date, date, Freshness], Any],
) -> tuple[Freshness, date, date, Any]:
    """`read_marts` when the cache cannot answer alone (blocking: runs in a thread)."""
    cache, pool = stats.cache, stats.pool

    def with_connection(read: Callable[[psycopg.Connection], Any]) -> Any:
        with pool.connection() as conn:
            return read(conn)

    try:
        freshness = cache.freshness(lambda: with_connection(read_freshness), refresh_token)
        first, last = resolve_range(start, end, freshness.latest_in(stats.tz), stats.tz)
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


def respond(
    stats: StatsQuery,
    freshness: Freshness,
    start: date,
    end: date,
    prepared: Prepared,
    **extra: Any,
) -> Response:
    """The response, and its renderer kept for this request's exact repeats (api/fast_reads.py
    serves those without routing; `meta` and so `lag_seconds` are rendered each time)."""

    def render() -> Response:
        return prepared.render(meta(freshness, start, end, stats.tz, **extra))

    kept = KeptResponse(stats.route, render)
    stats.cache.put(stats.response_key, refresh_token(freshness), kept)
    return render()


def stats_route(
    path: str, model: type, summary: str, on: APIRouter = router
) -> Callable[[Callable[..., Any]], Any]:
    """A GET /stats route (of `on`, a router with the /stats prefix): JSON (`model`) or CSV,
    documented alike."""
    return on.get(path, response_model=model, responses=CSV_DOC, summary=summary)


StatsDep = Annotated[StatsQuery, Depends(stats_query)]


@stats_route("/dau", DauResponse, "Daily active users and events for every date in the range")
async def get_dau(stats: StatsDep, event_type: EventTypesParam = None) -> Response:
    types = distinct_types(event_type)  # none: every event (dau.sql); else dau_event_types.sql
    freshness, start, end, rows = await read_marts(
        stats,
        ("dau", types),
        lambda conn, first, last, _: run(
            conn,
            "dau_event_types" if types else "dau",
            stats.tz,
            first,
            last,
            event_types=list(types),
        ),
    )
    if not freshness.marts_built:
        rows = [(start + timedelta(days=i), 0, 0) for i in range((end - start).days + 1)]
    columns = ("date", "active_users", "events")
    prepared = prepare_table(columns, rows, stats.csv_out)
    extra = {"event_type": list(types)} if types else {}
    return respond(stats, freshness, start, end, prepared, **extra)


@stats_route(
    "/top-events",
    TopEventsResponse,
    "Event types in the range by events, with their distinct users",
)
async def get_top_events(
    stats: StatsDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many rows")] = 10,
) -> Response:
    freshness, start, end, rows = await read_marts(
        stats,
        ("top-events", limit),
        lambda conn, first, last, _: run(
            conn, "top_events", stats.tz, first, last, row_limit=limit
        ),
    )
    columns = ("event_type", "events", "users")
    prepared = prepare_table(columns, rows, stats.csv_out)
    return respond(stats, freshness, start, end, prepared, limit=limit)


@stats_route(
    "/retention", RetentionResponse, "Cohort retention by first-ever local day or week (Monday)"
)
async def get_retention(
    stats: StatsDep,
    period: Annotated[Literal["day", "week"], Query(description="cohort granularity")] = "day",
    periods: Annotated[int, Query(ge=0, le=366, description="offsets 0..periods")] = 7,
    start_event: StartEventParam = None,
    return_event: ReturnEventParam = None,
) -> Response:
    weekly = period == "week"
    by_events = {"start_event": start_event, "return_event": return_event}

    def fetch(
        conn: psycopg.Connection, first: date, last: date, freshness: Freshness
    ) -> list[dict[str, Any]]:
        if start_event or return_event:  # at query time (retention_events.sql)
            step = 7 if weekly else 1
            lo, hi = (week_start(first), week_start(last)) if weekly else (first, last)
            last_day = hi + timedelta(days=step - 1)
            cells = run(
                conn,
                "retention_events",
                stats.tz,
                lo,
                last_day,
                periods=periods,
                step_days=step,
                **by_events,
            )
        elif weekly:
            cells = run(
                conn,
                "retention_weekly",
                stats.tz,
                week_start(first),
                week_start(last),
                periods=periods,
            )
        else:
            cells = run(conn, "retention_daily", stats.tz, first, last, periods=periods)
        latest = freshness.latest_in(stats.tz)
        return build_retention(cells, periods, 7 if weekly else 1, latest)

    key = ("retention", period, periods, start_event, return_event)
    freshness, start, end, data = await read_marts(stats, key, fetch)
    if stats.csv_out:
        long_rows = (
            (row["cohort"], row["size"], k, row["retained"][k], row["rate"][k])
            for row in data
            for k in range(periods + 1)
        )
        prepared = prepare_csv(("cohort", "size", "period", "retained", "rate"), long_rows)
    else:
        prepared = prepare_json(data)
    given = {name: value for name, value in by_events.items() if value is not None}
    return respond(stats, freshness, start, end, prepared, period=period, periods=periods, **given)
