"""The event-type filters (`event_type=` on /stats/dau and /stats/active-users,
`start_event=`/`return_event=` on /stats/retention) on small histories worked out by hand,
their CSV, meta, 422s, OpenAPI and caching."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.integration.analytics_support import Activity
from tests.integration.marts_support import Event, snapshot, write

# (user, event type, UTC time): April 2026, Monday the 6th
HISTORY = [
    ("a", "signup", "2026-04-06T10:00:00Z"),
    ("a", "purchase", "2026-04-06T11:00:00Z"),  # a return event on the cohort day itself
    ("a", "purchase", "2026-04-08T10:00:00Z"),
    ("a", "view", "2026-04-13T10:00:00Z"),
    ("b", "signup", "2026-04-06T12:00:00Z"),
    ("b", "view", "2026-04-07T10:00:00Z"),
    ("b", "purchase", "2026-04-14T10:00:00Z"),
    ("c", "view", "2026-04-05T10:00:00Z"),  # first seen before signing up
    ("c", "signup", "2026-04-07T10:00:00Z"),
    ("c", "purchase", "2026-04-07T10:30:00Z"),
    ("c", "purchase", "2026-04-07T11:00:00Z"),
    ("c", "signup", "2026-04-09T10:00:00Z"),  # a second signup: the cohort stays 04-07
    ("c", "purchase", "2026-04-09T10:00:00Z"),
]


def events(history: list[tuple[str, str, str]], prefix: str = "h") -> list[Event]:
    return [Event(f"{prefix}-{i}", *row) for i, row in enumerate(history)]


def refresh(settings: Settings, *, full_refresh: bool = False) -> None:
    result = refresh_marts(settings, full_refresh=full_refresh)
    assert result.success, result.errors


@pytest.fixture
def history(marts: psycopg.Connection, settings: Settings) -> psycopg.Connection:
    """HISTORY loaded and the marts built."""
    write(marts, events(HISTORY))
    refresh(settings)
    return marts


def body(client: TestClient, url: str) -> dict[str, Any]:
    reply = client.get(url)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_dau_of_event_types(history: psycopg.Connection, client: TestClient) -> None:
    span = "from=2026-04-06&to=2026-04-09"
    one = body(client, f"/stats/dau?{span}&event_type=purchase")
    assert one["meta"]["event_type"] == ["purchase"]
    assert [(r["active_users"], r["events"]) for r in one["data"]] == [
        (1, 1),
        (1, 2),
        (1, 1),
        (1, 1),
    ]
    both = body(client, f"/stats/dau?{span}&event_type=signup&event_type=purchase")
    assert both["meta"]["event_type"] == ["purchase", "signup"]
    # 04-06: a (signup + purchase) and b count once each; 04-07 and 04-09: c once
    assert [(r["active_users"], r["events"]) for r in both["data"]] == [
        (2, 3),
        (1, 3),
        (1, 1),
        (1, 2),
    ]
    assert body(client, f"/stats/dau?{span}&event_type=nothing")["data"][0] == {
        "date": "2026-04-06",
        "active_users": 0,
        "events": 0,
    }
    unfiltered = body(client, f"/stats/dau?{span}")
    assert "event_type" not in unfiltered["meta"]  # today's answer, unchanged
    assert [r["active_users"] for r in unfiltered["data"]] == [2, 2, 1, 1]
    csv = client.get(f"/stats/dau?{span}&event_type=purchase&format=csv")
    assert csv.text == (
        "date,active_users,events\r\n2026-04-06,1,1\r\n2026-04-07,1,2\r\n"
        "2026-04-08,1,1\r\n2026-04-09,1,1\r\n"
    )


def test_retention_by_start_and_return_event(
    history: psycopg.Connection, client: TestClient
) -> None:
    span = "from=2026-04-01&to=2026-04-30"
    got = body(
        client, f"/stats/retention?{span}&periods=3&start_event=signup&return_event=purchase"
    )
    assert got["meta"]["start_event"] == "signup" and got["meta"]["return_event"] == "purchase"
    # cohort 04-06: a, b (a's purchase on day 0 is not a return; day 2: a);
    # cohort 04-07: c (purchases on days 0 and 2); the latest day with data is 04-14
    assert [(r["cohort"], r["size"], r["retained"]) for r in got["data"]] == [
        ("2026-04-06", 2, [2, 0, 1, 0]),
        ("2026-04-07", 1, [1, 0, 1, 0]),
    ]
    assert got["data"][0]["rate"] == [1.0, 0.0, 0.5, 0.0]
    start_only = body(client, f"/stats/retention?{span}&periods=3&start_event=signup")
    assert "return_event" not in start_only["meta"]
    assert [r["retained"] for r in start_only["data"]] == [[2, 1, 1, 0], [1, 0, 1, 0]]
    return_only = body(client, f"/stats/retention?{span}&periods=3&return_event=purchase")
    # cohorts by first-ever event: c on 04-05, a and b on 04-06
    assert [(r["cohort"], r["retained"]) for r in return_only["data"]] == [
        ("2026-04-05", [1, 0, 1, 0]),
        ("2026-04-06", [2, 0, 1, 0]),
    ]
    weekly = body(
        client,
        f"/stats/retention?{span}&period=week&periods=2&start_event=signup&return_event=purchase",
    )
    assert [(r["cohort"], r["size"], r["retained"]) for r in weekly["data"]] == [
        ("2026-04-06", 3, [3, 1, None]),  # b's purchase on 04-14; week 04-20 not yet observed
    ]
    activity = Activity(events(HISTORY), "UTC")
    assert got["data"] == activity.retention(
        date(2026, 4, 1), date(2026, 4, 30), "day", 3, "signup", "purchase"
    )
    plain = body(client, f"/stats/retention?{span}&periods=3")
    assert "start_event" not in plain["meta"]
    csv = client.get(f"/stats/retention?{span}&periods=1&start_event=signup&format=csv")
    assert csv.text == (
        "cohort,size,period,retained,rate\r\n"
        "2026-04-06,2,0,2,1.0\r\n2026-04-06,2,1,1,0.5\r\n"
        "2026-04-07,1,0,1,1.0\r\n2026-04-07,1,1,0,0.0\r\n"
    )


def test_a_late_first_start_event_moves_the_cohort(
    marts: psycopg.Connection, settings: Settings, client: TestClient
) -> None:
    url = "/stats/retention?from=2026-04-01&to=2026-04-30&periods=2&start_event=signup"
    write(
        marts,
        events([("m", "signup", "2026-04-10T10:00:00Z"), ("m", "view", "2026-04-11T10:00:00Z")]),
    )
    refresh(settings)
    assert [(r["cohort"], r["retained"]) for r in body(client, url)["data"]] == [
        ("2026-04-10", [1, 1, None])
    ]
    write(
        marts,
        events(
            [("m", "signup", "2026-04-03T10:00:00Z"), ("m", "view", "2026-04-05T10:00:00Z")], "late"
        ),
    )
    refresh(settings)
    assert [(r["cohort"], r["retained"]) for r in body(client, url)["data"]] == [
        ("2026-04-03", [1, 0, 1])
    ]
    incremental = snapshot(marts)
    refresh(settings, full_refresh=True)
    assert snapshot(marts) == incremental


def test_active_users_before_any_refresh_and_csv(
    marts: psycopg.Connection, settings: Settings, client: TestClient
) -> None:
    empty = body(client, "/stats/active-users?from=2026-04-01&to=2026-04-02&window=30")
    assert empty["data"] == [
        {"date": "2026-04-01", "active_users": 0, "dau": 0, "mau": 0, "stickiness": None},
        {"date": "2026-04-02", "active_users": 0, "dau": 0, "mau": 0, "stickiness": None},
    ]
    assert empty["meta"]["window"] == 30 and empty["meta"]["refreshed_at"] is None
    write(marts, events(HISTORY))
    refresh(settings)
    reply = client.get(
        "/stats/active-users?from=2026-04-06&to=2026-04-08&window=28",
        headers={"Accept": "text/csv"},
    )
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["x-eventmart-refreshed-at"].endswith("Z")
    # 04-06: a, b, c (c since 04-05) in 28 days, 2 that day: 2/3 = 0.6667
    assert reply.text == (
        "date,active_users,dau,mau,stickiness\r\n"
        "2026-04-06,3,2,3,0.6667\r\n2026-04-07,3,2,3,0.6667\r\n2026-04-08,3,1,3,0.3333\r\n"
    )


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/stats/active-users?window=5", ["query", "window"]),
        ("/stats/active-users?window=week", ["query", "window"]),
        ("/stats/active-users?event_type=", ["query", "event_type", 0]),
        ("/stats/dau?event_type=a&event_type=" + "x" * 257, ["query", "event_type", 1]),
        ("/stats/dau?" + "&".join(f"event_type=t{i}" for i in range(21)), ["query", "event_type"]),
        ("/stats/retention?start_event=", ["query", "start_event"]),
        ("/stats/retention?return_event=" + "x" * 257, ["query", "return_event"]),
        ("/stats/active-users?from=2026-04-02&to=2026-04-01", ["query", "from"]),
        # no stored type holds U+0000 (PostgreSQL text cannot): a 422, never a 500
        ("/stats/active-users?event_type=ok&event_type=a%00b", ["query", "event_type", 1]),
        ("/stats/retention?start_event=%00", ["query", "start_event"]),
        ("/stats/trends?event_type=%00&breakdown=path", ["query", "event_type"]),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(
    marts: psycopg.Connection, client: TestClient, url: str, loc: list[Any]
) -> None:
    reply = client.get(url)
    assert reply.status_code == 422, reply.text
    assert [error["loc"] for error in reply.json()["detail"]] == [loc]


def test_openapi_describes_the_filters(marts: psycopg.Connection, client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    active = paths["/stats/active-users"]["get"]
    parameters = {p["name"]: p for p in active["parameters"]}
    assert {"from", "to", "format", "window", "event_type"} <= set(parameters)
    window = parameters["window"]["schema"]
    assert schemas[window["$ref"].split("/")[-1]]["enum"] == [1, 7, 28, 30]
    assert window["default"] == 7
    assert "text/csv" in active["responses"]["200"]["content"]
    ok = active["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/ActiveUsersResponse")
    assert set(schemas["ActiveUsersRow"]["properties"]) == {
        "date",
        "active_users",
        "dau",
        "mau",
        "stickiness",
    }
    assert {"window", "event_type"} <= set(schemas["ActiveUsersMeta"]["required"])
    dau = {p["name"]: p for p in paths["/stats/dau"]["get"]["parameters"]}
    assert dau["event_type"]["schema"]["anyOf"][0]["maxItems"] == 20
    retention = {p["name"] for p in paths["/stats/retention"]["get"]["parameters"]}
    assert {"start_event", "return_event"} <= retention


def test_filtered_answers_are_cached_per_refresh(
    history: psycopg.Connection, settings: Settings
) -> None:
    marts = history
    cached = settings.model_copy(update={"read_cache_seconds": 60})
    base = "/stats/active-users?from=2026-04-06&to=2026-04-06&window=7"
    with TestClient(create_app(cached)) as cached_client:
        first = body(cached_client, f"{base}&event_type=purchase&event_type=signup")["data"]
        assert first[0]["active_users"] == 2  # a and b (c signed up on 04-07)
        # the sources change behind the API's back: answers still come from memory
        marts.execute("delete from intermediate.int_user_event_type_days")
        marts.execute("update marts.fct_user_day_gaps set active_users = 99")
        time.sleep(0.01)
        again = body(cached_client, f"{base}&event_type=purchase&event_type=signup")["data"]
        reordered = body(cached_client, f"{base}&event_type=signup&event_type=purchase")["data"]
        assert again == reordered == first  # one answer per set of types
        # a new question reads the marts: the gap rows of 04-05 (c) and 04-06 (a and b)
        assert body(cached_client, base)["data"][0]["active_users"] == 2 * 99
