"""/stats/active-users and the event-type filters over a sliced history in two zones: after
every slice and refresh the answers equal an independent computation in plain Python
(tests/integration/analytics_support.py), and the marts equal a full rebuild row for row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.integration.analytics_support import Activity, days
from tests.integration.marts_support import FIRST_DAY, Event, generate_history, snapshot, write

# the default zone first; New York changes to summer time on 2026-03-08, inside the history
ZONES = ["America/New_York", "Asia/Kathmandu"]
TYPE_SETS: list[list[str] | None] = [None, ["purchase"], ["purchase", "signup"]]


@pytest.fixture
def zoned(settings: Settings) -> Settings:
    return settings.model_copy(update={"timezones": ZONES})


@pytest.fixture
def zoned_client(
    zoned: Settings, marts: psycopg.Connection, redis_conn: redis.Redis
) -> Iterator[TestClient]:
    with TestClient(create_app(zoned)) as test_client:
        yield test_client


def refresh(settings: Settings, *, full_refresh: bool = False) -> None:
    result = refresh_marts(settings, full_refresh=full_refresh)
    assert result.success, result.errors


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    pairs = [
        (name, item)
        for name, value in params.items()
        if value is not None
        for item in (value if isinstance(value, list) else [value])
    ]
    reply = client.get(f"{path}?{urlencode(pairs)}")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def data(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    return list(get(client, path, **params)["data"])


def gap_rows(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("select * from marts.fct_user_day_gaps order by 1, 2, 3").fetchall()


def late_start_events() -> list[list[Event]]:
    """Users whose first start event (signup) arrives after a later one, per slice."""
    slices: list[list[Event]] = [[], [], [], []]
    for i in range(6):
        user = f"late-signup-{i}"
        late, early = FIRST_DAY + timedelta(days=40 + i), FIRST_DAY + timedelta(days=8 + 3 * i)
        slices[0].append(Event(f"lsu-{i}-late", user, "signup", f"{late}T15:00:00Z"))
        for k in (1, 2, 9):
            day = early + timedelta(days=k)
            slices[0].append(Event(f"lsu-{i}-p{k}", user, "purchase", f"{day}T03:30:00Z"))
        slices[1 + i % 3].append(Event(f"lsu-{i}-early", user, "signup", f"{early}T23:50:00Z"))
    return slices


def check(client: TestClient, activity: Activity, tz: str) -> None:
    first, last = activity.earliest, activity.latest
    start, end = first - timedelta(days=3), last + timedelta(days=10)  # no events at either end
    for window in (1, 7, 28, 30):
        for types in TYPE_SETS:
            got = data(
                client,
                "/stats/active-users",
                window=window,
                event_type=types,
                tz=tz,
                **{"from": start, "to": end},
            )
            assert got == activity.active_users(window, start, end, types), (window, types, tz)
    default = get(client, "/stats/active-users", tz=tz)
    assert default["meta"]["window"] == 7 and default["meta"]["event_type"] == []
    assert default["data"] == activity.active_users(7, last - timedelta(days=29), last)
    for types in TYPE_SETS[1:]:
        got = data(client, "/stats/dau", event_type=types, tz=tz, **{"from": start, "to": end})
        assert got == activity.dau(start, end, types), (types, tz)
    middle = (first + timedelta(days=10), first + timedelta(days=40))
    for start_event, return_event in [("signup", "purchase"), ("signup", None), (None, "purchase")]:
        for period, periods in [("day", 12), ("week", 4)]:
            for span in [(first, last), middle]:
                got = data(
                    client,
                    "/stats/retention",
                    period=period,
                    periods=periods,
                    tz=tz,
                    start_event=start_event,
                    return_event=return_event,
                    **{"from": span[0], "to": span[1]},
                )
                want = activity.retention(*span, period, periods, start_event, return_event)
                assert got == want, (start_event, return_event, period, span, tz)


def test_slices_match_independent_answers_and_a_full_rebuild(
    marts: psycopg.Connection, zoned: Settings, zoned_client: TestClient
) -> None:
    slices = generate_history(seed=11)
    extra = late_start_events()
    loaded: list[Event] = []
    for part, more in zip(slices, extra, strict=True):
        write(marts, part + more)
        loaded.extend(part + more)
        refresh(zoned)
        for tz in ZONES:
            check(zoned_client, Activity(loaded, tz), tz)
        incremental, gaps = snapshot(marts), gap_rows(marts)
        refresh(zoned, full_refresh=True)
        assert gap_rows(marts) == gaps
        assert snapshot(marts) == incremental
    # the late first signups moved their users' cohorts to the earlier day
    cohorts = data(
        zoned_client,
        "/stats/retention",
        start_event="signup",
        periods=0,
        **{"from": FIRST_DAY, "to": FIRST_DAY + timedelta(days=63)},
    )
    sizes = {row["cohort"]: row["size"] for row in cohorts}
    early = Activity(loaded, ZONES[0]).retention(
        FIRST_DAY, FIRST_DAY + timedelta(days=63), "day", 0, "signup", None
    )
    assert sizes == {row["cohort"]: row["size"] for row in early}


def test_a_late_event_changes_exactly_the_windows_it_falls_in(
    marts: psycopg.Connection, zoned: Settings, zoned_client: TestClient
) -> None:
    steady = [
        Event(f"s-{d}", "steady", "view", f"{day}T16:00:00Z")
        for d, day in enumerate(days(date(2026, 4, 1), date(2026, 4, 30)))
    ]
    sparse = [
        Event("u-1", "sparse", "view", "2026-04-01T16:00:00Z"),
        Event("u-2", "sparse", "view", "2026-04-20T16:00:00Z"),
    ]
    write(marts, steady + sparse)
    refresh(zoned)
    span = {"from": "2026-03-25", "to": "2026-05-25"}
    before = data(zoned_client, "/stats/active-users", window=7, **span)
    gaps_before = set(gap_rows(marts))
    late = [
        Event("u-late", "sparse", "view", "2026-04-10T16:00:00Z"),
        Event("n-late", "newcomer", "view", "2026-04-12T16:00:00Z"),
    ]
    write(marts, late)
    refresh(zoned)
    after = data(zoned_client, "/stats/active-users", window=7, **span)
    activity = Activity(steady + sparse + late, ZONES[0])
    assert after == activity.active_users(7, date(2026, 3, 25), date(2026, 5, 25))
    changed = {
        b["date"]
        for b, a in zip(before, after, strict=True)
        if b["active_users"] != a["active_users"]
    }
    late_days = [date(2026, 4, 10), date(2026, 4, 12)]
    windows_with_a_late_day = {
        day.isoformat()
        for day in days(date(2026, 3, 25), date(2026, 5, 25))
        if any(day - timedelta(days=6) <= late_day <= day for late_day in late_days)
    }
    assert changed == windows_with_a_late_day  # 04-10..04-18
    # the mart rewrote the late days and the next day of the user with a late day (04-20)
    touched = {row[1] for row in set(gap_rows(marts)) ^ gaps_before if row[0] == ZONES[0]}
    assert touched == {date(2026, 4, 10), date(2026, 4, 12), date(2026, 4, 20)}
    incremental = gap_rows(marts)
    refresh(zoned, full_refresh=True)
    assert gap_rows(marts) == incremental
