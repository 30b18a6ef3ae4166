"""Test services: real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else embedded ones).

Each test run gets its own database; each test gets an empty raw.events and a flushed Redis DB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from psycopg.conninfo import make_conninfo
from rq import Queue

from core.settings import Settings, get_settings

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def service_urls() -> Iterator[tuple[str, str]]:
    """(server database URL, Redis URL): the configured services or embedded ones."""
    from core.embedded import urls_or_embedded

    home = REPO_ROOT / ".eventmart" / "test-servers"
    with urls_or_embedded(
        home, os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    ) as urls:
        yield urls


@pytest.fixture(scope="session")
def settings(service_urls: tuple[str, str]) -> Iterator[Settings]:
    """Settings pointing at a fresh database for this test run (dropped at the end)."""
    server_url, redis_url = service_urls
    name = f"eventmart_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    test_url = make_conninfo(server_url, dbname=name)
    overridden = (
        "DATABASE_URL",
        "REDIS_URL",
        "EVENTMART_WAIT_TIMEOUT",
        "EVENTMART_READ_CACHE_SECONDS",
    )
    saved = {k: os.environ.get(k) for k in overridden}
    os.environ["DATABASE_URL"] = test_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["EVENTMART_WAIT_TIMEOUT"] = "3"  # keeps the ?wait=true time-out test short
    # Tests read right after a refresh: look at the refresh status on every request (answers
    # stay cached per refresh, so that invalidation is what every /stats test exercises).
    os.environ["EVENTMART_READ_CACHE_SECONDS"] = "0"
    get_settings.cache_clear()
    from loaders.migrate import migrate

    with psycopg.connect(test_url) as conn:
        migrate(conn)
    yield get_settings()
    from jobs.ingest import reset_connection

    reset_connection()
    get_settings.cache_clear()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def db(settings: Settings) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test database, raw.events emptied first."""
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("truncate raw.events")
        yield conn


@pytest.fixture
def redis_conn(settings: Settings) -> Iterator[redis.Redis]:
    """The test Redis DB, flushed before the test."""
    from core.redis_conn import connect_redis

    client = connect_redis(settings)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def queue(redis_conn: redis.Redis, settings: Settings) -> Queue:
    from jobs.queue import ingest_queue

    return ingest_queue(redis_conn, settings)


@pytest.fixture
def client(
    settings: Settings, db: psycopg.Connection, redis_conn: redis.Redis
) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


def drain(queue: Queue) -> None:
    """Run every queued job in this process, as a burst worker would."""
    from jobs.worker import IngestWorker

    IngestWorker([queue], connection=queue.connection).work(burst=True)


def count_events(conn: psycopg.Connection) -> int:
    row = conn.execute("select count(*) from raw.events").fetchone()
    assert row is not None
    return int(row[0])


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(args: list[str], log_name: str) -> subprocess.Popen[bytes]:
    """Start `eventmart <args>` with the test environment; output goes to a log file."""
    (REPO_ROOT / ".eventmart").mkdir(exist_ok=True)
    with open(REPO_ROOT / ".eventmart" / f"test-{log_name}.log", "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "cli", *args], stdout=log, stderr=log)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_api(log_name: str = "api") -> Iterator[str]:
    """`eventmart serve` in a real uvicorn process (with os.environ); yields its base URL."""
    import httpx2

    port = free_port()
    process = start_process(["serve", "--port", str(port)], log_name)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx2.HTTPError:
            time.sleep(0.2)
    else:
        stop_process(process)
        raise RuntimeError(f"eventmart serve did not start; see .eventmart/test-{log_name}.log")
    try:
        yield url
    finally:
        stop_process(process)


@pytest.fixture
def live_api(settings: Settings, redis_conn: redis.Redis, db: psycopg.Connection) -> Iterator[str]:
    """`eventmart serve` in a real uvicorn process; yields its base URL."""
    with running_api() as url:
        yield url


@pytest.fixture
def live_worker(settings: Settings, redis_conn: redis.Redis) -> Iterator[subprocess.Popen[bytes]]:
    """`eventmart worker` in its own process."""
    process = start_process(["worker"], "worker")
    yield process
    stop_process(process)
