"""Regressions found by tests/reliability/test_hostile_bodies.py, kept in the fast suite."""

from __future__ import annotations

import socket
import time

import httpx2
import psycopg
import pytest
from fastapi.testclient import TestClient
from rq import Queue

from api.body import duplicate_key

JSON = {"Content-Type": "application/json"}
EVENT = b'"user_id":"u","event_type":"t","occurred_at":"2026-11-01T00:00:00Z"'


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'[{"event_id":"d-1","event_id":"d-2",' + EVENT + b"}]", "event_id"),
        (b'[{"event_id":"d-1",' + EVENT + b',"properties":{"a":1,"b":{"c":1, "c" :2}}}]', "c"),
        (b'[{"event_id":"d-1",' + EVENT + b',"user_id":"other"}]', "user_id"),
    ],
)
def test_duplicate_keys_are_refused_with_400_and_nothing_is_queued(
    client: TestClient, queue: Queue, db: psycopg.Connection, body: bytes, key: str
) -> None:
    reply = client.post("/events", content=body, headers=JSON)
    assert reply.status_code == 400
    assert reply.json()["detail"] == f"body: duplicate key {key!r} in one JSON object"
    assert queue.count == 0


def test_same_key_in_different_objects_is_fine(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    body = b'[{"event_id":"s-1",' + EVENT + b'},{"event_id":"s-2",' + EVENT + b"}]"
    reply = client.post("/events", content=body, headers=JSON)
    assert reply.status_code == 202
    assert reply.json()["accepted"] == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'[{"a":"x\\":y","b":1}]', None),  # a look-alike inside a string
        (b'[{"a":1},{"a":2}]', None),
        (b'[{"a":{"a":{"a":1}}}]', None),
        (b'[{"a":1, "a"\n:2}]', "a"),
        (b'[[[{"k":[{"x":1,"y":2,"x":3}]}]]]', "x"),
    ],
)
def test_duplicate_key_detection(body: bytes, expected: str | None) -> None:
    assert duplicate_key(body) == expected


def test_malformed_wait_parameter_is_a_documented_422(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    """schemathesis found FastAPI's own 422 shape undocumented on POST /events."""
    body = b'[{"event_id":"w-1",' + EVENT + b"}]"
    reply = client.post("/events?wait=maybe", content=body, headers=JSON)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["query", "wait"]
    assert queue.count == 0
    spec = client.get("/openapi.json").json()
    documented = spec["paths"]["/events"]["post"]["responses"]["422"]["content"]
    refs = {s["$ref"] for s in documented["application/json"]["schema"]["anyOf"]}
    assert refs == {
        "#/components/schemas/IngestResult",
        "#/components/schemas/HTTPValidationError",
    }
    assert {"IngestResult", "HTTPValidationError"} <= spec["components"]["schemas"].keys()


@pytest.fixture
def one_second_head_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTMART_HEADER_TIMEOUT", "1s")  # read by the `live_api` process


def seconds_until_closed(sock: socket.socket, drip: bytes, pause: float, limit: float) -> float:
    """Send `drip` slowly; how long until the server closes the connection."""
    started = time.monotonic()
    sock.settimeout(pause)
    while time.monotonic() - started < limit:
        try:
            sock.sendall(drip)
            if sock.recv(1024) == b"":
                break
        except TimeoutError:
            continue
        except OSError:
            break
    return time.monotonic() - started


def test_slow_request_head_and_idle_connection_are_cut_off(
    one_second_head_deadline: None, live_api: str
) -> None:
    """uvicorn alone waits for ever on a request head sent a header line at a time."""
    port = int(live_api.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\n")
        assert seconds_until_closed(slow, b"X-Drip: 1\r\n", 0.2, 10) < 3
    with socket.create_connection(("127.0.0.1", port)) as idle:
        idle.settimeout(10)
        started = time.monotonic()
        assert idle.recv(1) == b""
        assert time.monotonic() - started < 3
    # Ordinary keep-alive traffic is unaffected.
    with httpx2.Client(base_url=live_api) as http:
        assert [http.get("/health").status_code for _ in range(3)] == [200, 200, 200]
