"""Repeats of a /stats request answered before routing (api/fast_reads.py): the same body
as the routed answer, the same key check and rate limit, `lag_seconds` computed afresh."""

from __future__ import annotations

import time

import psycopg
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.integration.marts_support import Event, drop_marts, write

KEY = {"Authorization": "Bearer fast-read-key"}
DAU_OK = 'eventmart_http_requests_total{method="GET",route="/stats/dau",status="200"} '


def dau_requests(client: TestClient) -> float:
    """This process's count of 200 answers labelled /stats/dau (other tests add to it too)."""
    lines = client.get("/metrics").text.splitlines()
    return sum(float(line.removeprefix(DAU_OK)) for line in lines if line.startswith(DAU_OK))


def test_a_repeat_is_served_from_memory_behind_the_same_guard(
    db: psycopg.Connection, settings: Settings, redis_conn: redis.Redis
) -> None:
    drop_marts(db)
    write(db, [Event("f-1", "a", "view", "2026-06-01T10:00:00Z")])
    assert refresh_marts(settings).success
    cached = settings.model_copy(
        update={
            "read_cache_seconds": 60,
            "read_keys": ["fast-read-key"],
            "read_rate_limit": "4/minute",
        }
    )
    url = "/stats/dau?from=2026-06-01&to=2026-06-01"
    with TestClient(create_app(cached)) as client:
        before = dau_requests(client)
        routed = client.get(url, headers=KEY)
        assert routed.status_code == 200
        # the marts change behind the API's back: only a memory answer still says 1
        db.execute("update marts.fct_daily_active_users set active_users = 99")
        time.sleep(0.01)
        repeat = client.get(url, headers=KEY)
        assert repeat.status_code == 200
        assert (
            repeat.json()["data"]
            == routed.json()["data"]
            == [{"date": "2026-06-01", "active_users": 1, "events": 1}]
        )
        assert repeat.json()["meta"]["lag_seconds"] > routed.json()["meta"]["lag_seconds"]
        assert repeat.headers["ratelimit"].split(";")[1] == "r=2"  # counted like any read
        assert "x-request-id" in repeat.headers
        assert dau_requests(client) == before + 2  # the repeat is labelled as routed
        assert client.get(url).status_code == 401  # no key: refused, never from memory
        wrong = client.get(url, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        assert wrong.json() == {"detail": "this API key may not use this route"}
        csv = client.get(url, headers={**KEY, "Accept": "text/csv"})  # another response entry
        assert csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert csv.text.splitlines() == ["date,active_users,events", "2026-06-01,1,1"]
        assert client.get(url, headers=KEY).status_code == 200  # the 4th of 4 this minute
        over = client.get(url, headers=KEY)
        assert over.status_code == 429
        assert int(over.headers["retry-after"]) >= 1
