"""API keys, rate limits and open operations routes, against real Redis and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import orjson
import psycopg
import pytest
import redis
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from api.auth import InsecureConfigError, check_keys_config, require_read_key
from core.settings import Settings
from tests.bad_events import GOOD
from tests.conftest import REPO_ROOT, free_port, start_process, stop_process

WRITE = "write-key-0123456789abcdef"
READ = "read-key-0123456789abcdef"
BOTH = "both-key-0123456789abcdef"
JSON = {"Content-Type": "application/json"}
ONE_EVENT = orjson.dumps([GOOD])


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def with_read_probe(app: FastAPI) -> FastAPI:
    """A stand-in /stats route guarded like the stats router, until that router exists."""
    if "/stats/dau" in app.openapi()["paths"]:
        return app
    probe = APIRouter()

    @probe.get("/stats/probe")
    async def stats_probe() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(probe, dependencies=[Depends(require_read_key)])
    return app


def read_route(app: FastAPI) -> str:
    return "/stats/dau" if "/stats/dau" in app.openapi()["paths"] else "/stats/probe"


@pytest.fixture
def keyed(
    settings: Settings, db: psycopg.Connection, redis_conn: redis.Redis
) -> Iterator[tuple[TestClient, str]]:
    from api.app import create_app

    custom = settings.model_copy(update={"write_keys": [WRITE, BOTH], "read_keys": [READ, BOTH]})
    app = with_read_probe(create_app(custom))
    with TestClient(app) as client:
        yield client, read_route(app)


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 401), ("nope", 403), (READ, 403), (WRITE, 202), (BOTH, 202)],
    ids=["missing", "wrong", "read-only-key", "write-key", "both-key"],
)
def test_ingest_needs_a_write_key(keyed: tuple[TestClient, str], key: str | None, status: int):
    client, _ = keyed
    reply = client.post("/events", content=ONE_EVENT, headers={**JSON, **bearer(key)})
    assert reply.status_code == status, reply.text
    if status == 401:
        assert reply.headers["www-authenticate"] == "Bearer"
    if status >= 400:
        assert "detail" in reply.json()


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 401), ("nope", 403), (WRITE, 403), (READ, 200), (BOTH, 200)],
    ids=["missing", "wrong", "write-only-key", "read-key", "both-key"],
)
def test_stats_need_a_read_key(keyed: tuple[TestClient, str], key: str | None, status: int):
    client, route = keyed
    reply = client.get(route, headers=bearer(key))
    assert reply.status_code == status, reply.text


def test_other_schemes_and_case(keyed: tuple[TestClient, str]) -> None:
    client, _ = keyed
    basic = client.post("/events", content=ONE_EVENT, headers={**JSON, "Authorization": WRITE})
    assert basic.status_code == 401
    lower = client.post(
        "/events", content=ONE_EVENT, headers={**JSON, "Authorization": f"bearer {WRITE}"}
    )
    assert lower.status_code == 202


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics", "/docs", "/openapi.json"])
def test_operations_routes_stay_open(keyed: tuple[TestClient, str], path: str) -> None:
    client, _ = keyed
    assert client.get(path).status_code == 200


def test_no_keys_means_open(client: TestClient) -> None:
    assert client.post("/events", content=ONE_EVENT, headers=JSON).status_code == 202


@pytest.mark.parametrize(
    ("write", "read", "message"),
    [
        ([], [READ], "EVENTMART_WRITE_KEYS is not set"),
        ([WRITE], [], "EVENTMART_READ_KEYS is not set"),
        (["changeme"], [READ], "placeholders"),
        ([WRITE], ["my-secret-changeme-123"], "placeholders"),
        (["short-key"], [READ], "shorter than 16"),
        (["x" * 32], [READ], "placeholders"),
    ],
)
def test_production_refuses_weak_configuration(
    settings: Settings, write: list[str], read: list[str], message: str
) -> None:
    from api.app import create_app

    custom = settings.model_copy(
        update={"env": "production", "write_keys": write, "read_keys": read}
    )
    with pytest.raises(InsecureConfigError, match=message):
        check_keys_config(custom)
    with pytest.raises(InsecureConfigError):
        create_app(custom)


def test_production_starts_with_real_keys(settings: Settings) -> None:
    custom = settings.model_copy(
        update={"env": "production", "write_keys": [WRITE], "read_keys": [READ]}
    )
    check_keys_config(custom)


def test_eventmart_serve_refuses_production_without_keys(settings: Settings) -> None:
    env = {**os.environ, "EVENTMART_ENV": "production", "EVENTMART_WRITE_KEYS": "changeme"}
    env.pop("EVENTMART_READ_KEYS", None)
    done = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert b"refuses to start" in done.stderr


# --- rate limits ----------------------------------------------------------------------------


@pytest.fixture
def limited(
    settings: Settings, db: psycopg.Connection, redis_conn: redis.Redis
) -> Iterator[tuple[TestClient, str]]:
    from api.app import create_app

    custom = settings.model_copy(
        update={
            "write_keys": [WRITE, BOTH],
            "read_keys": [READ, BOTH],
            "rate_limit": "3/minute",
            "read_rate_limit": "2/minute",
        }
    )
    app = with_read_probe(create_app(custom))
    with TestClient(app) as client:
        yield client, read_route(app)


def post_empty(client: Any, key: str | None = WRITE, **headers: str) -> Any:
    """An empty array passes the guards and stops at 400: it costs one hit, queues nothing."""
    return client.post("/events", content=b"[]", headers={**JSON, **bearer(key), **headers})


def test_rate_limit_answers_429_with_ietf_headers(limited: tuple[TestClient, str]) -> None:
    client, _ = limited
    replies = [post_empty(client) for _ in range(3)]
    assert [r.status_code for r in replies] == [400, 400, 400]
    assert replies[0].headers["ratelimit-policy"] == '"ingest";q=3;w=60'
    assert [r.headers["ratelimit"].split(";")[1] for r in replies] == ["r=2", "r=1", "r=0"]
    over = post_empty(client)
    assert over.status_code == 429
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert over.headers["ratelimit-policy"] == '"ingest";q=3;w=60'
    assert over.headers["ratelimit"].startswith('"ingest";r=0;t=')
    assert "x-request-id" in over.headers


def test_rate_limits_are_per_key_and_per_policy(limited: tuple[TestClient, str]) -> None:
    client, route = limited
    for _ in range(3):
        post_empty(client, BOTH)
    assert post_empty(client, BOTH).status_code == 429
    assert post_empty(client, WRITE).status_code == 400  # another key, another bucket
    # reads have their own limit, even for the same key
    assert [client.get(route, headers=bearer(BOTH)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


def test_unauthenticated_clients_are_limited_by_address(limited: tuple[TestClient, str]) -> None:
    client, _ = limited
    replies = [post_empty(client, "guess") for _ in range(4)]
    assert [reply.status_code for reply in replies] == [403, 403, 403, 429]
    # a client guessing keys sees its budget shrink on every answer, refusals included
    assert [reply.headers["ratelimit"].split(";")[1] for reply in replies] == [
        "r=2",
        "r=1",
        "r=0",
        "r=0",
    ]
    # the forwarded-for header is not trusted by default
    assert post_empty(client, "guess", **{"X-Forwarded-For": "203.0.113.9"}).status_code == 429


def test_trusted_proxy_header_names_the_client(
    settings: Settings, db: psycopg.Connection, redis_conn: redis.Redis
) -> None:
    from api.app import create_app

    custom = settings.model_copy(
        update={"rate_limit": "1/minute", "trusted_proxy_header": "X-Forwarded-For"}
    )
    with TestClient(create_app(custom)) as client:
        first = {"X-Forwarded-For": "198.51.100.1, 203.0.113.1"}
        assert post_empty(client, None, **first).status_code == 400
        assert post_empty(client, None, **first).status_code == 429
        # the last hop is the one the trusted proxy saw
        spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.2"}
        assert post_empty(client, None, **spoofed).status_code == 400


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def test_rate_limit_holds_across_two_api_processes(
    settings: Settings,
    redis_conn: redis.Redis,
    db: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTMART_WRITE_KEYS", WRITE)
    monkeypatch.setenv("EVENTMART_RATE_LIMIT", "5/minute")
    ports = [free_port()]
    while len(ports) < 2:  # two calls may hand out the same just-freed port
        if (port := free_port()) not in ports:
            ports.append(port)
    processes = [
        start_process(["serve", "--port", str(p)], f"ops-api-{n}") for n, p in enumerate(ports)
    ]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for url, process in zip(urls, processes, strict=True):
            wait_healthy(url, process)
        # alternate between the processes: 5 pass in total, then both refuse
        clients = [httpx2.Client(base_url=url) for url in urls]
        statuses = [post_empty(clients[i % 2]).status_code for i in range(5)]
        assert statuses == [400] * 5
        assert post_empty(clients[0]).status_code == 429
        assert post_empty(clients[1]).status_code == 429
        for client in clients:
            client.close()
    finally:
        for process in processes:
            stop_process(process)
