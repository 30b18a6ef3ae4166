"""Snowplow-style: load history in slices with a refresh after each; after every slice the read
API equals an independent computation over the stored input, and the marts equal a full rebuild.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

import jobs.refresh
from api.app import create_app
from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.conftest import REPO_ROOT
from tests.integration.marts_support import (
    Event,
    Expected,
    check_api,
    data,
    generate_history,
    refresh,
    snapshot,
    write,
)


def test_slices_with_refreshes_match_independent_answers_and_full_rebuild(
    marts: psycopg.Connection, settings: Settings, client: TestClient
) -> None:
    slices = generate_history()
    assert sum(len(part) for part in slices) >= 50_000
    loaded: list[Event] = []
    for part in slices:
        write(marts, part)
        loaded.extend(part)
        refresh(settings)
        expected = Expected(loaded)
        check_api(client, expected)
        incremental = snapshot(marts)
        refresh(settings, full_refresh=True)
        assert snapshot(marts) == incremental
    # a refresh with nothing new changes nothing
    refresh(settings)
    assert snapshot(marts) == incremental
    meta = client.get("/stats/dau").json()["meta"]
    assert meta["to"] == expected.latest.isoformat()
    assert meta["refreshed_at"] and meta["loaded_through"] and meta["lag_seconds"] >= 0


def test_first_seen_moves_to_an_earlier_cohort(
    marts: psycopg.Connection, settings: Settings, client: TestClient
) -> None:
    later = [Event(f"m-{i}", "mover", "view", f"2026-04-{10 + i:02d}T12:00:00Z") for i in range(3)]
    write(marts, later)
    refresh(settings)
    url = "/stats/retention?from=2026-04-01&to=2026-04-30&periods=3"
    assert [(row["cohort"], row["size"]) for row in data(client, url)] == [("2026-04-10", 1)]
    write(marts, [Event("m-early", "mover", "view", "2026-04-02T23:30:00-02:00")])  # 04-03 UTC
    refresh(settings)
    rows = data(client, url)
    assert [(row["cohort"], row["size"]) for row in rows] == [("2026-04-03", 1)]
    assert rows[0]["retained"] == [1, 0, 0, 0]
    weekly = data(client, "/stats/retention?from=2026-04-01&to=2026-04-30&period=week&periods=2")
    # weeks of 03-30 and 04-06 observed; the week of 04-13 starts after the latest day (04-12)
    assert [(row["cohort"], row["retained"]) for row in weekly] == [("2026-03-30", [1, 1, None])]
    incremental = snapshot(marts)
    refresh(settings, full_refresh=True)
    assert snapshot(marts) == incremental


def test_two_refreshes_started_at_once_run_one_after_the_other(
    marts: psycopg.Connection, settings: Settings, client: TestClient
) -> None:
    slices = generate_history(seed=9)
    write(marts, slices[0])
    command = [sys.executable, "-m", "cli", "refresh"]
    processes = [
        subprocess.Popen(command, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    done = [
        json.loads(line)
        for _, err in outputs
        for line in err.decode().splitlines()
        if '"refresh_done"' in line
    ]
    assert len(done) == 2
    assert max(d["waited_seconds"] for d in done) > 0.2  # the second waited for the first
    expected = Expected(slices[0])
    check_api(client, expected)
    incremental = snapshot(marts)
    refresh(settings, full_refresh=True)
    assert snapshot(marts) == incremental
    assert REPO_ROOT.is_dir()


def test_refresh_waits_while_another_holds_the_lock(
    marts: psycopg.Connection, settings: Settings
) -> None:
    import threading

    from core.locks import REFRESH_LOCK_ID

    write(marts, [Event("w-1", "u", "view", "2026-04-10T12:00:00Z")])
    marts.execute("select pg_advisory_lock(%s)", (REFRESH_LOCK_ID,))
    results = []
    worker = threading.Thread(target=lambda: results.append(refresh_marts(settings)))
    worker.start()
    worker.join(timeout=1.5)
    assert worker.is_alive()  # waiting for the lock, dbt not started
    marts.execute("select pg_advisory_unlock(%s)", (REFRESH_LOCK_ID,))
    worker.join(timeout=120)
    assert results and results[0].success and results[0].waited_seconds >= 1.5


def test_stats_before_the_first_refresh(marts: psycopg.Connection, client: TestClient) -> None:
    body = client.get("/stats/dau?from=2026-01-01&to=2026-01-03").json()
    assert body["meta"]["refreshed_at"] is None and body["meta"]["lag_seconds"] is None
    assert [row["active_users"] for row in body["data"]] == [0, 0, 0]
    assert client.get("/stats/top-events").json()["data"] == []
    assert client.get("/stats/retention").json()["data"] == []
    assert len(client.get("/stats/dau").json()["data"]) == 30  # 30 days ending today


def test_csv_answers(marts: psycopg.Connection, settings: Settings, client: TestClient) -> None:
    write(
        marts,
        [
            Event("c-1", "a", "view", "2026-04-06T10:00:00Z"),
            Event("c-2", "b", "view", "2026-04-06T11:00:00Z"),
            Event("c-3", "a", "buy, now", "2026-04-07T10:00:00Z"),
            Event("c-4", "c", "view", "2026-04-08T10:00:00Z"),
        ],
    )
    refresh(settings)
    reply = client.get("/stats/dau?from=2026-04-05&to=2026-04-08&format=csv")
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["x-eventmart-refreshed-at"].endswith("Z")
    assert float(reply.headers["x-eventmart-lag-seconds"]) >= 0
    assert reply.text == (
        "date,active_users,events\r\n2026-04-05,0,0\r\n2026-04-06,2,2\r\n"
        "2026-04-07,1,1\r\n2026-04-08,1,1\r\n"
    )
    top = client.get(
        "/stats/top-events?from=2026-04-06&to=2026-04-08", headers={"Accept": "text/csv"}
    )
    assert top.text == 'event_type,events,users\r\nview,3,3\r\n"buy, now",1,1\r\n'
    retention = client.get("/stats/retention?from=2026-04-06&to=2026-04-06&periods=3&format=csv")
    assert retention.text == (
        "cohort,size,period,retained,rate\r\n"
        "2026-04-06,2,0,2,1.0\r\n2026-04-06,2,1,1,0.5\r\n"
        "2026-04-06,2,2,0,0.0\r\n2026-04-06,2,3,,\r\n"
    )
    assert client.get("/stats/dau?format=json", headers={"Accept": "text/csv"}).json()["data"]


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/stats/dau?from=2026-02-30", "from"),
        ("/stats/dau?from=20260201", "from"),
        ("/stats/dau?to=2026-1-01", "to"),
        ("/stats/dau?to=", "to"),
        ("/stats/dau?from=2026-03-02&to=2026-03-01", "from"),
        ("/stats/dau?from=2016-01-01&to=2026-01-09", "to"),
        ("/stats/dau?format=xml", "format"),
        ("/stats/top-events?limit=0", "limit"),
        ("/stats/top-events?limit=1001", "limit"),
        ("/stats/top-events?limit=ten", "limit"),
        ("/stats/retention?period=month", "period"),
        ("/stats/retention?periods=367", "periods"),
        ("/stats/retention?periods=-1", "periods"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    marts: psycopg.Connection, client: TestClient, url: str, parameter: str
) -> None:
    reply = client.get(url)
    assert reply.status_code == 422, reply.text
    assert [error["loc"] for error in reply.json()["detail"]] == [["query", parameter]]


def test_longest_range_is_accepted(marts: psycopg.Connection, client: TestClient) -> None:
    start = date(2016, 1, 1)
    end = start + timedelta(days=3659)
    reply = client.get(f"/stats/dau?from={start}&to={end}")
    assert reply.status_code == 200
    assert len(reply.json()["data"]) == 3660


def test_dbt_build_data_tests_and_unit_tests_pass(
    marts: psycopg.Connection, settings: Settings
) -> None:
    """`dbt build` (what the plain CLI runs from the repo root): models, data and unit tests."""
    from jobs.refresh import run_dbt

    write(marts, generate_history(seed=5)[0])
    assert run_dbt(settings, "build") == []
    write(marts, generate_history(seed=5)[1])
    assert run_dbt(settings, "build") == []


def test_new_rows_touching_most_days_rebuild_from_scratch(
    marts: psycopg.Connection,
    settings: Settings,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs.refresh, "FULL_REBUILD_SHARE", 0.5)
    days = [f"2026-04-{d:02d}T10:00:00Z" for d in range(1, 11)]
    write(marts, [Event(f"r-{i}", f"u-{i}", "view", day) for i, day in enumerate(days)])
    refresh(settings)
    write(marts, [Event(f"late-{i}", "late", "view", day) for i, day in enumerate(days[:6])])
    assert jobs.refresh.mostly_new(
        marts, jobs.refresh.refresh_threshold(marts, jobs.refresh.watermarked_models(settings))
    )  # 6 of 10 days
    refresh(settings)
    expected = Expected(
        [Event(f"r-{i}", f"u-{i}", "view", d) for i, d in enumerate(days)]
        + [Event(f"late-{i}", "late", "view", d) for i, d in enumerate(days[:6])]
    )
    check_api(client, expected)
    refresh(settings)
    write(marts, [Event("one-more", "late", "view", days[-1])])
    assert not jobs.refresh.mostly_new(
        marts, jobs.refresh.refresh_threshold(marts, jobs.refresh.watermarked_models(settings))
    )


def test_answers_are_cached_until_a_refresh_is_seen(
    marts: psycopg.Connection, settings: Settings
) -> None:
    """With the default cache, answers come from memory until the process sees a newer
    refreshed_at (at most EVENTMART_READ_CACHE_SECONDS later), then from the new marts."""
    write(marts, [Event("k-1", "a", "view", "2026-04-06T10:00:00Z")])
    refresh(settings)
    cached = settings.model_copy(update={"read_cache_seconds": 0.5})
    url = "/stats/dau?from=2026-04-06&to=2026-04-06"
    with TestClient(create_app(cached)) as cached_client:
        assert data(cached_client, url)[0]["active_users"] == 1
        # marts changed behind the API's back, refreshed_at untouched: still the cached answer
        marts.execute("update marts.fct_daily_active_users set active_users = 99")
        assert data(cached_client, url)[0]["active_users"] == 1
        write(marts, [Event("k-2", "b", "view", "2026-04-06T11:00:00Z")])
        refresh(settings)  # a new refreshed_at
        deadline = time.monotonic() + 5
        while data(cached_client, url)[0]["active_users"] != 2:
            assert time.monotonic() < deadline, "the new refresh was never seen"
            time.sleep(0.1)
        meta = cached_client.get(url).json()["meta"]
        assert meta["lag_seconds"] > 0  # computed per request, not cached


def test_a_refresh_waits_for_raw_writes_in_flight_and_counts_them_once(
    marts: psycopg.Connection, settings: Settings
) -> None:
    """A write stamped before a refresh but committed after it started is neither skipped nor
    counted twice: the refresh waits for it (the raw writer's advisory lock)."""
    write(marts, [Event("f-0", "a", "view", "2026-04-06T10:00:00Z")])
    refresh(settings)
    assert settings.database_url
    with (
        psycopg.connect(settings.database_url) as writer,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        open_write = writer.transaction()
        open_write.__enter__()  # the batch is stamped and inserted, not yet committed
        write(writer, [Event("f-1", "a", "view", "2026-04-06T11:00:00Z")])
        write(marts, [Event("f-2", "c", "view", "2026-04-07T11:00:00Z")])  # committed: dbt runs
        running = pool.submit(refresh_marts, settings)
        time.sleep(2)
        assert not running.done(), "the refresh did not wait for the write in flight"
        open_write.__exit__(None, None, None)  # commit
        assert running.result(timeout=120).success
    refresh(settings)  # nothing read twice by the next refresh either
    write(marts, [Event("f-3", "b", "view", "2026-04-06T12:00:00Z")])
    refresh(settings)
    dau = marts.execute(
        "select event_date::text, active_users, events from marts.fct_daily_active_users"
        " order by event_date"
    ).fetchall()
    user_days = marts.execute(
        "select user_id, events from intermediate.int_user_days order by user_id"
    ).fetchall()
    assert dau == [("2026-04-06", 2, 3), ("2026-04-07", 1, 1)]
    assert user_days == [("a", 2), ("b", 1), ("c", 1)]
    incremental = snapshot(marts)
    refresh(settings, full_refresh=True)
    assert snapshot(marts) == incremental
