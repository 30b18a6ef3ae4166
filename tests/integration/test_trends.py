"""GET /stats/trends (docs/api.md#trends): events and users per local day for the top values
of a breakdown property, `$other` and `$none`; equal to an independent computation
(tests/integration/trends_support.py) after every slice of a history with late events, and
the breakdown models equal a full rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.integration.marts_support import snapshot
from tests.integration.trends_support import (
    FIRST_DAY,
    LATE_STAR,
    LONG_PREFIX,
    TIE_DAY,
    PropEvent,
    TrendsExpected,
    generate_trend_history,
    snapshot_trends,
    write_prop_events,
)

ZONES = ["America/New_York", "UTC"]


def refresh(settings: Settings, *, full_refresh: bool = False) -> None:
    result = refresh_marts(settings, full_refresh=full_refresh)
    assert result.success, result.errors


@pytest.fixture
def zoned(settings: Settings) -> Settings:
    """Two reporting zones, the first (the default `tz`) with summer time."""
    return settings.model_copy(update={"timezones": ZONES})


@pytest.fixture
def trends_client(
    zoned: Settings, marts: psycopg.Connection, redis_conn: Any
) -> Iterator[TestClient]:
    with TestClient(create_app(zoned)) as test_client:
        yield test_client


def get(client: TestClient, url: str) -> dict[str, Any]:
    reply = client.get(url)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def url(event_type: str, prop: str, start: date, end: date, tz: str | None = None) -> str:
    zone = f"&tz={tz}" if tz else ""
    return f"/stats/trends?event_type={event_type}&breakdown={prop}&from={start}&to={end}{zone}"


def check_api(client: TestClient, expected: TrendsExpected, zones: list[str]) -> None:
    for tz in zones:
        last = expected.latest(tz)
        first = FIRST_DAY - timedelta(days=1)
        ranges = [(first, last), (FIRST_DAY + timedelta(days=5), FIRST_DAY + timedelta(days=9))]
        ranges += [(TIE_DAY, TIE_DAY), (date(2026, 3, 8), date(2026, 3, 8)), (last, last)]
        for event_type, prop in [
            ("page_view", "path"),
            ("click", "path"),
            ("page_view", "utm_source"),
            ("signup", "$browser"),
            ("nothing", "path"),
        ]:
            for start, end in ranges:
                body = get(client, url(event_type, prop, start, end, tz))
                top, rows = expected.trends(tz, event_type, prop, start, end)
                assert body["data"] == rows, (tz, event_type, prop, start, end)
                assert body["meta"]["values"] == top
                assert body["meta"]["event_type"] == event_type
                assert body["meta"]["breakdown"] == prop
                assert body["meta"]["tz"] == tz


def test_trends_match_independent_answers_and_full_rebuild(
    marts: psycopg.Connection, zoned: Settings, trends_client: TestClient
) -> None:
    slices = generate_trend_history()
    loaded: list[PropEvent] = []
    tops = []
    for part in slices:
        write_prop_events(marts, part)
        loaded.extend(part)
        refresh(zoned)
        expected = TrendsExpected(loaded)
        check_api(trends_client, expected, ZONES)
        last = expected.latest(ZONES[0])
        tops.append(expected.trends(ZONES[0], "page_view", "path", FIRST_DAY, last)[0])
        incremental = snapshot(marts), snapshot_trends(marts)
        refresh(zoned, full_refresh=True)
        assert (snapshot(marts), snapshot_trends(marts)) == incremental
    # the late value entered the top ten with the last slice only
    assert LATE_STAR not in tops[1] and LATE_STAR in tops[2]
    tie_day = get(trends_client, url("page_view", "path", TIE_DAY, TIE_DAY))["meta"]["values"]
    assert tie_day[:3] == ["Tie", "tie", "tié"]
    # a refresh with nothing new changes nothing
    refresh(zoned)
    assert (snapshot(marts), snapshot_trends(marts)) == incremental


def test_value_rules_and_synthetic_rows(
    marts: psycopg.Connection, zoned: Settings, trends_client: TestClient
) -> None:
    day = "2026-05-04"
    kinds: list[Any] = [
        "$other", "$none", 12, 1.5, True, {"b": 1, "aa": [1, "x"]}, [2, None],
        LONG_PREFIX + "a", LONG_PREFIX + "b", "x", "y", "z", "w",
    ]  # fmt: skip
    events = [
        PropEvent(f"v-{i}-{k}", f"u-{k}", "page_view", f"{day}T15:00:00Z", {"path": value})
        for i, value in enumerate(kinds)
        for k in range(len(kinds) - i)  # distinct counts: a fixed ranking
    ]
    events += [
        PropEvent("n-1", "u-0", "page_view", f"{day}T15:00:00Z", {}),
        PropEvent("n-2", "u-0", "page_view", f"{day}T15:00:00Z", {"path": None}),
        PropEvent("n-3", "u-9", "page_view", f"{day}T15:00:00Z", {"other": 1}),
    ]
    write_prop_events(marts, events)
    refresh(zoned)
    body = get(trends_client, url("page_view", "path", date(2026, 5, 4), date(2026, 5, 4)))
    rows = {(row["bucket"], row["value"]): (row["events"], row["users"]) for row in body["data"]}
    assert body["meta"]["values"] == [
        "$other", "$none", "12", LONG_PREFIX, "1.5", "true", '{"b": 1, "aa": [1, "x"]}',
        "[2, null]", "x", "y",
    ]  # fmt: skip
    assert rows[("value", "$other")] == (13, 13)  # a real value spelled "$other"
    assert rows[("value", "$none")] == (12, 12)
    assert rows[("value", LONG_PREFIX)] == (6 + 5, 6)  # cut to 200 characters, then merged
    assert rows[("other", "$other")] == (2 + 1, 2)  # "z" and "w": two users, u-0 and u-1
    assert rows[("none", "$none")] == (3, 2)
    assert len(body["data"]) == 12


def test_csv_meta_and_zero_days(
    marts: psycopg.Connection, zoned: Settings, trends_client: TestClient
) -> None:
    write_prop_events(
        marts,
        [
            PropEvent("c-1", "a", "page_view", "2026-04-06T10:00:00Z", {"path": "/a, b"}),
            PropEvent("c-2", "b", "page_view", "2026-04-07T03:00:00Z", {"path": "/a, b"}),
            PropEvent("c-3", "b", "page_view", "2026-04-07T13:00:00Z", {}),
        ],
    )
    refresh(zoned)
    start, end = "2026-04-05", "2026-04-07"
    csv_url = f"/stats/trends?event_type=page_view&breakdown=path&from={start}&to={end}&format=csv"
    reply = trends_client.get(csv_url)
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["x-eventmart-refreshed-at"].endswith("Z")
    # New York: 04-07T03:00Z is still 04-06 there
    assert reply.text == (
        "date,bucket,value,events,users\r\n"
        '2026-04-05,value,"/a, b",0,0\r\n2026-04-05,other,$other,0,0\r\n'
        "2026-04-05,none,$none,0,0\r\n"
        '2026-04-06,value,"/a, b",2,2\r\n2026-04-06,other,$other,0,0\r\n'
        "2026-04-06,none,$none,0,0\r\n"
        '2026-04-07,value,"/a, b",0,0\r\n2026-04-07,other,$other,0,0\r\n'
        "2026-04-07,none,$none,1,1\r\n"
    )
    body = get(trends_client, csv_url.replace("&format=csv", ""))
    assert body["meta"]["from"] == start and body["meta"]["to"] == end
    assert body["meta"]["values"] == ["/a, b"] and body["meta"]["refreshed_at"]
    # served again from the answer cache: the same body
    assert get(trends_client, csv_url.replace("&format=csv", ""))["data"] == body["data"]


def test_adding_a_breakdown_property_rebuilds_its_history(
    marts: psycopg.Connection, zoned: Settings
) -> None:
    slices = generate_trend_history(seed=5)
    only_path = zoned.model_copy(update={"breakdown_properties": ["path"]})
    write_prop_events(marts, slices[0])
    refresh(only_path)
    write_prop_events(marts, slices[1])
    both = zoned.model_copy(update={"breakdown_properties": ["path", "utm_source"]})
    refresh(both)
    incremental = snapshot_trends(marts)
    properties = {row[2] for row in incremental["marts.fct_daily_property_values"]}
    assert properties == {"path", "utm_source"}
    refresh(both, full_refresh=True)
    assert snapshot_trends(marts) == incremental
    with TestClient(create_app(both)) as client:
        expected = TrendsExpected(slices[0] + slices[1])
        last = expected.latest(ZONES[0])
        body = get(client, url("page_view", "utm_source", FIRST_DAY, last))
        assert (
            body["data"] == expected.trends(ZONES[0], "page_view", "utm_source", FIRST_DAY, last)[1]
        )


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("breakdown=path", "event_type", "required"),
        ("event_type=page_view", "breakdown", "required"),
        ("event_type=&breakdown=path", "event_type", "at least 1"),
        ("event_type=page_view&breakdown=session", "breakdown", "$browser, utm_source, path"),
        ("event_type=page_view&breakdown=path&from=2026-02-30", "from", "YYYY-MM-DD"),
        ("event_type=page_view&breakdown=path&format=xml", "format", "csv"),
        ("event_type=page_view&breakdown=path&tz=Mars/Olympus", "tz", "configured zones"),
    ],
)
def test_bad_parameters_get_a_422_naming_them(
    client: TestClient, query: str, parameter: str, words: str
) -> None:
    reply = client.get(f"/stats/trends?{query}")
    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]
    assert any(
        item["loc"] == ["query", parameter] and words in (item["msg"] + str(item.get("ctx", "")))
        for item in detail
    ), detail


def test_before_the_first_refresh_every_day_is_zero(trends_client: TestClient) -> None:
    body = get(trends_client, url("page_view", "path", date(2026, 1, 1), date(2026, 1, 2)))
    assert body["meta"]["values"] == [] and body["meta"]["refreshed_at"] is None
    assert [(row["bucket"], row["events"]) for row in body["data"]] == [
        ("other", 0), ("none", 0), ("other", 0), ("none", 0)
    ]  # fmt: skip


def test_openapi_documents_trends(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/stats/trends"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"event_type", "breakdown", "from", "to", "format"} <= names
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/TrendsResponse")
    row = document["components"]["schemas"]["TrendRow"]
    assert row["properties"]["bucket"]["enum"] == ["value", "other", "none"]
    assert set(row["required"]) == {"date", "bucket", "value", "events", "users"}


def test_trends_need_a_read_key(
    settings: Settings, marts: psycopg.Connection, redis_conn: Any
) -> None:
    keyed = settings.model_copy(update={"read_keys": ["read-1"], "write_keys": ["write-1"]})
    path = "/stats/trends?event_type=page_view&breakdown=path&from=2026-01-01&to=2026-01-01"
    with TestClient(create_app(keyed)) as client:
        for key, status in [(None, 401), ("write-1", 403), ("read-1", 200), ("read-1", 200)]:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            assert client.get(path, headers=headers).status_code == status
        # a repeat answered from memory is still guarded
        assert client.get(path).status_code == 401
