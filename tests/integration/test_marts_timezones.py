"""Reporting zones (EVENTMART_TIMEZONES): every answer per configured zone, by its local
calendar. The expected numbers come from Python's zoneinfo (marts_support.Expected), never
from the marts' SQL; the marts built incrementally equal a full rebuild, late events crossing
both DST switches included.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from jobs.refresh import reporting_settings_changed, run_dbt
from tests.integration.marts_support import (
    MART_TABLES,
    Event,
    Expected,
    check_api,
    data,
    refresh,
    snapshot,
    write,
)

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]
NEW_YORK = ZoneInfo("America/New_York")
SPRING_FORWARD = date(2026, 3, 8)  # New York: 23 hours
FALL_BACK = date(2026, 11, 1)  # New York: 25 hours
# two four-week windows, each around one switch (weeks from Monday)
WINDOWS = [(date(2026, 2, 23), 28), (date(2026, 10, 19), 28)]
SWITCH_DAYS = [SPRING_FORWARD, FALL_BACK]
TYPES = ["page_view"] * 6 + ["click"] * 3 + ["signup", "purchase"]


@pytest.fixture(autouse=True)
def restore_reporting_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_dbt exports the reporting settings of the Settings it was given into os.environ;
    put back what the other tests (and the CLI subprocesses they start) see."""
    for name in ("EVENTMART_TIMEZONES", "EVENTMART_BREAKDOWN_PROPERTIES"):
        monkeypatch.delenv(name, raising=False)


# mixed case: the refresh (Python) and dbt (Jinja) must sort them alike
PROPERTIES = ["utm_source", "Zebra", "$browser"]


def zoned(settings: Settings, zones: list[str]) -> Settings:
    return settings.model_copy(update={"timezones": zones, "breakdown_properties": PROPERTIES})


@pytest.fixture
def zones_client(settings: Settings, marts: psycopg.Connection) -> Iterator[TestClient]:
    with TestClient(create_app(zoned(settings, ZONES))) as client:
        yield client


def local(day: date, moment: time, zone: str) -> str:
    """The instant of local `day` `moment` in `zone`, as a producer in that zone sends it."""
    return datetime.combine(day, moment, tzinfo=ZoneInfo(zone)).isoformat()


def test_the_switch_days_are_23_and_25_hours_long() -> None:
    """The data below really crosses both switches (checked with zoneinfo, not the marts)."""

    def hours(day: date) -> float:
        start = datetime.combine(day, time(), tzinfo=NEW_YORK)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=NEW_YORK)
        return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600

    assert [hours(day) for day in SWITCH_DAYS] == [23, 25]
    for day, (first, days) in zip(SWITCH_DAYS, WINDOWS, strict=True):
        assert first <= day < first + timedelta(days=days)


def edge_events() -> list[Event]:
    """For every zone, events at local 00:00:00 and 23:59:59.999999 of the days around both
    switches, and the repeated hour of the fall-back night (01:30 EDT and 01:30 EST)."""
    events = []
    for zone in ZONES:
        for switch in SWITCH_DAYS:
            for offset in (-1, 0, 1):
                day = switch + timedelta(days=offset)
                user = f"edge-{zone}-{day}"
                for k, moment in enumerate((time(0, 0), time(23, 59, 59, 999999))):
                    events.append(
                        Event(f"edge-{zone}-{day}-{k}", user, "edge", local(day, moment, zone))
                    )
                # a user active at the edges of the day in every zone at once
                events.append(
                    Event(f"edge-all-{zone}-{day}", "edge-all", "edge", local(day, time(), zone))
                )
    for k, utc_hour in enumerate((5, 6)):  # both are 01:30 local in New York on 11-01
        stamp = datetime(2026, 11, 1, utc_hour, 30, tzinfo=UTC)
        assert stamp.astimezone(NEW_YORK).hour == 1
        events.append(Event(f"fold-{k}", "fold-user", "fold", stamp.isoformat()))
    return events


def zoned_history(seed: int = 18) -> list[list[Event]]:
    """Four slices (load order); the last two are late: the days around both DST switches
    arrive after the weeks that follow them, with edge events and users whose first-ever
    event (in the spring window) arrives after their autumn ones."""
    rng = random.Random(seed)
    spans = [(datetime.combine(first, time(), tzinfo=UTC), n) for first, n in WINDOWS]
    slices: list[list[Event]] = [[], [], [], []]
    n = 0
    for u in range(700):
        both = u % 5 == 0  # active in both windows: retention across them
        home = spans[u % 2]
        for _ in range(rng.randrange(3, 30)):
            n += 1
            window_start, window_days = spans[rng.randrange(2)] if both else home
            moment = window_start + timedelta(
                seconds=rng.randrange(window_days * 86400), microseconds=rng.randrange(10**6)
            )
            event = Event(f"z-{n:06d}", f"user-{u:03d}", rng.choice(TYPES), moment.isoformat())
            autumn = moment.month > 6
            near_switch = any(abs((moment.date() - day).days) <= 2 for day in SWITCH_DAYS)
            late = near_switch and rng.random() < 0.5
            slices[(2 if late else 0) + autumn].append(event)
    edges = edge_events()
    slices[2].extend(e for e in edges if e.utc().month < 6)
    slices[3].extend(e for e in edges if e.utc().month > 6)
    for i in range(20):  # their first-ever event comes last
        user = f"late-starter-{i}"
        autumn = datetime(2026, 10, 25, 3, tzinfo=UTC) + timedelta(days=i % 10)
        slices[1].extend(
            Event(f"ls-{i}-{k}", user, "page_view", (autumn + timedelta(hours=k * 7)).isoformat())
            for k in range(3)
        )
        spring = datetime.combine(
            SPRING_FORWARD + timedelta(days=i % 3 - 1), time(4 + i % 3), tzinfo=UTC
        )
        slices[3].append(Event(f"ls-{i}-early", user, "signup", spring.isoformat()))
    for k in (1, 2, 3):  # re-sent later with other contents: the first stored copy wins
        slices[k].extend(
            Event(e.event_id, "impostor", "impostor", e.occurred_at)
            for e in rng.sample(slices[k - 1], 100)
        )
    for part in slices:
        rng.shuffle(part)
    return slices


def zones_in(conn: psycopg.Connection) -> dict[str, set[str]]:
    return {
        table: {row[0] for row in conn.execute(f"select distinct tz from {table}").fetchall()}
        for table in MART_TABLES
    }


def test_every_zone_matches_zoneinfo_and_incremental_equals_full(
    marts: psycopg.Connection, settings: Settings, zones_client: TestClient
) -> None:
    zones = zoned(settings, ZONES)
    loaded: list[Event] = []
    for part in zoned_history():
        write(marts, part)
        loaded.extend(part)
        refresh(zones)
        for zone in ZONES:
            check_api(zones_client, Expected(loaded, zone), zone)
        incremental = snapshot(marts)
        refresh(zones, full_refresh=True)
        assert snapshot(marts) == incremental
    assert zones_in(marts) == {table: set(ZONES) for table in MART_TABLES}
    # the default zone is the first configured one
    check_api(zones_client, Expected(loaded, ZONES[0]))
    # the switch days alone, where the edge events sit
    for zone in ZONES:
        expected = Expected(loaded, zone)
        for switch in SWITCH_DAYS:
            url = f"/stats/top-events?from={switch}&to={switch}&limit=1000&tz={zone}"
            assert data(zones_client, url) == expected.top_events(switch, switch, 1000)
            assert data(zones_client, f"/stats/dau?from={switch}&to={switch}&tz={zone}") == (
                expected.dau(switch, switch)
            )


def test_meta_tz_csv_and_unknown_zones(
    marts: psycopg.Connection, settings: Settings, zones_client: TestClient
) -> None:
    # late on 03-07 in New York is 03-08 in UTC, Kolkata and Kathmandu
    write(marts, [Event("m-1", "a", "view", "2026-03-07T23:59:59.999999-05:00")])
    refresh(zoned(settings, ZONES))
    default = zones_client.get("/stats/dau").json()["meta"]
    assert default["tz"] == "UTC" and default["to"] == "2026-03-08"
    body = zones_client.get("/stats/dau?tz=America/New_York").json()
    assert body["meta"]["tz"] == "America/New_York" and body["meta"]["to"] == "2026-03-07"
    assert body["data"][-1] == {"date": "2026-03-07", "active_users": 1, "events": 1}
    for path in ("/stats/top-events", "/stats/retention?period=week"):
        sep = "&" if "?" in path else "?"
        assert (
            zones_client.get(f"{path}{sep}tz=Asia/Kathmandu").json()["meta"]["tz"]
            == "Asia/Kathmandu"
        )
    reply = zones_client.get(
        "/stats/dau?from=2026-03-07&to=2026-03-08&tz=America/New_York&format=csv"
    )
    assert reply.headers["x-eventmart-tz"] == "America/New_York"
    assert reply.text == "date,active_users,events\r\n2026-03-07,1,1\r\n2026-03-08,0,0\r\n"
    reply = zones_client.get("/stats/dau?from=2026-03-07&to=2026-03-08&tz=Asia/Kolkata&format=csv")
    assert reply.text == "date,active_users,events\r\n2026-03-07,0,0\r\n2026-03-08,1,1\r\n"
    for path in ("/stats/dau", "/stats/top-events", "/stats/retention"):
        for zone in ("Europe/Paris", "utc", "", "Not/AZone"):
            reply = zones_client.get(path, params={"tz": zone})
            assert reply.status_code == 422, reply.text
            [error] = reply.json()["detail"]
            assert error["loc"] == ["query", "tz"]
            assert "UTC, America/New_York, Asia/Kolkata, Asia/Kathmandu" in error["msg"]


def test_a_zone_added_later_is_built_at_the_next_refresh(
    marts: psycopg.Connection, settings: Settings
) -> None:
    slices = zoned_history(seed=3)
    write(marts, slices[0] + slices[1])
    utc_only = zoned(settings, ["UTC"])
    refresh(utc_only)
    assert zones_in(marts) == {table: {"UTC"} for table in MART_TABLES}
    # what dbt recorded is what the refresh compares with
    more = zoned(settings, ["UTC", "Asia/Kathmandu"])
    assert not reporting_settings_changed(marts, utc_only)
    assert reporting_settings_changed(marts, more)
    write(marts, slices[2])

    # a plain dbt run for the new list stops before building anything, saying why
    errors = run_dbt(more, "run")
    assert errors and "reporting settings" in " ".join(errors), errors
    assert zones_in(marts) == {table: {"UTC"} for table in MART_TABLES}

    refresh(more)  # the next refresh (scheduler's or `eventmart refresh`) rebuilds
    loaded = slices[0] + slices[1] + slices[2]
    with TestClient(create_app(more)) as client:
        for zone in ("UTC", "Asia/Kathmandu"):
            check_api(client, Expected(loaded, zone), zone)
    built = snapshot(marts)
    refresh(more, full_refresh=True)
    assert snapshot(marts) == built
    write(marts, slices[3])  # and it stays incremental afterwards
    refresh(more)
    incremental = snapshot(marts)
    refresh(more, full_refresh=True)
    assert snapshot(marts) == incremental

    # reordering the list changes only the API's default: no rebuild needed
    assert run_dbt(zoned(settings, ["Asia/Kathmandu", "UTC"]), "run") == []
    # removing a zone drops its rows at the next refresh
    refresh(zoned(settings, ["Asia/Kathmandu"]))
    assert zones_in(marts) == {table: {"Asia/Kathmandu"} for table in MART_TABLES}
    with TestClient(create_app(zoned(settings, ["Asia/Kathmandu"]))) as client:
        check_api(client, Expected(loaded + slices[3], "Asia/Kathmandu"))
