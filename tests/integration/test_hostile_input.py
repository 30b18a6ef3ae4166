"""Regressions found by tests/reliability/test_hostile_bodies.py, kept in the fast suite."""

from __future__ import annotations

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
