"""POST /events against real Redis and PostgreSQL: statuses, bodies and what lands."""

from __future__ import annotations

import gzip
import select
import socket
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient
from rq import Queue

from tests.bad_events import BAD_EVENTS, GOOD, with_
from tests.conftest import count_events, drain

JSON = {"Content-Type": "application/json"}


def good(i: int) -> dict[str, Any]:
    return with_(event_id=f"ok-{i}", user_id=f"u-{i}")


def post(client: TestClient, body: Any, **kwargs: Any) -> Any:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {**JSON, **kwargs.pop("headers", {})}
    return client.post("/events", content=content, headers=headers, **kwargs)


@pytest.mark.parametrize(("event", "error"), BAD_EVENTS)
def test_bad_event_rejected_while_neighbours_land(
    client: TestClient, queue: Queue, db: psycopg.Connection, event: Any, error: str
) -> None:
    reply = post(client, [good(0), event, good(1)])
    assert reply.status_code == 202
    body = reply.json()
    assert body["accepted"] == 2
    assert body["duplicates_in_request"] == 0
    [rejection] = body["rejected"]
    assert rejection["index"] == 1
    assert rejection["error"].startswith(error)
    expected_id = event.get("event_id") if isinstance(event, dict) else None
    assert rejection["event_id"] == (expected_id if isinstance(expected_id, str) else None)
    drain(queue)
    ids = [r[0] for r in db.execute("select event_id from raw.events order by 1")]
    assert ids == ["ok-0", "ok-1"]


def test_all_bad_events_answer_422_and_queue_nothing(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    events = [p.values[0] for p in BAD_EVENTS]
    reply = post(client, events)
    assert reply.status_code == 422
    body = reply.json()
    assert body["accepted"] == 0
    assert [r["index"] for r in body["rejected"]] == list(range(len(events)))
    assert queue.count == 0


def test_duplicates_in_request_first_copy_wins(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    first = with_(event_id="dup", user_id="first")
    second = with_(event_id="dup", user_id="second")
    invalid_copy = with_(event_id="dup", user_id=7)
    reply = post(client, [invalid_copy, first, good(1), second])
    body = reply.json()
    assert reply.status_code == 202
    assert (body["accepted"], body["duplicates_in_request"]) == (2, 1)
    assert [r["index"] for r in body["rejected"]] == [0]
    drain(queue)
    row = db.execute("select user_id from raw.events where event_id = 'dup'").fetchone()
    assert row == ("first",)


def test_timestamps_stored_as_utc(client: TestClient, queue: Queue, db: psycopg.Connection) -> None:
    events = [
        with_(event_id="naive", occurred_at="2024-05-01T23:30:00"),
        with_(event_id="east", occurred_at="2024-05-02T01:30:00.123456+02:00"),
        with_(event_id="west", occurred_at="2024-05-01 19:30:00-04:00"),
    ]
    assert post(client, events).status_code == 202
    drain(queue)
    rows = dict(
        db.execute(
            "select event_id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
            " from raw.events"
        ).fetchall()
    )
    assert rows == {
        "naive": "2024-05-01 23:30:00.000000",
        "east": "2024-05-01 23:30:00.123456",
        "west": "2024-05-01 23:30:00.000000",
    }


def test_stored_text_and_properties_are_exact(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    event = with_(
        event_id="ünï-1",
        user_id=" Zoë 用户 🎉 ",
        properties={"k\u0000": {"v": ["a\u0000b", 1.5, None, True]}, "名": "é"},
    )
    assert post(client, [event]).status_code == 202
    drain(queue)
    row = db.execute("select user_id, properties from raw.events").fetchone()
    assert row == (" Zoë 用户 🎉 ", {"k\ufffd": {"v": ["a\ufffdb", 1.5, None, True]}, "名": "é"})


BODY_CASES = [
    pytest.param(b"\xff\xfe[not utf8]", JSON, 400, "body: not valid UTF-8 JSON", id="bad-utf8"),
    pytest.param(b"[{", JSON, 400, "body: not valid UTF-8 JSON", id="truncated-json"),
    pytest.param(b'{"event_id": "x"}', JSON, 400, "body: must be a JSON array", id="object"),
    pytest.param(b"[]", JSON, 400, "body: the array is empty", id="empty-array"),
    pytest.param(b"[1]", {"Content-Type": "text/plain"}, 415, "Content-Type", id="text-plain"),
    pytest.param(b"[1]", {}, 415, "Content-Type must be application/json", id="no-type"),
    pytest.param(
        b"[1]", {"Content-Type": "application/json; charset=latin-1"}, 415, "charset", id="latin1"
    ),
    pytest.param(b"[1]", {**JSON, "Content-Encoding": "br"}, 415, "Content-Encoding", id="brotli"),
    pytest.param(
        b"not gzip", {**JSON, "Content-Encoding": "gzip"}, 400, "body: bad gzip", id="bad-gzip"
    ),
    pytest.param(
        gzip.compress(b"[" * 10)[:-6],
        {**JSON, "Content-Encoding": "gzip"},
        400,
        "body: gzip data is truncated",
        id="truncated-gzip",
    ),
]


@pytest.mark.parametrize(("content", "headers", "status", "detail"), BODY_CASES)
def test_bad_bodies(
    client: TestClient,
    queue: Queue,
    content: bytes,
    headers: dict[str, str],
    status: int,
    detail: str,
) -> None:
    reply = client.post("/events", content=content, headers=headers)
    assert reply.status_code == status
    assert detail in reply.json()["detail"]
    assert queue.count == 0


def test_charset_utf8_parameter_is_accepted(client: TestClient, queue: Queue) -> None:
    reply = client.post(
        "/events",
        content=orjson.dumps([GOOD]),
        headers={"Content-Type": "Application/JSON; charset=UTF-8"},
    )
    assert reply.status_code == 202


def test_too_many_events_is_413_and_accepts_nothing(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    reply = post(client, [good(i) for i in range(1001)])
    assert reply.status_code == 413
    assert "1001 events" in reply.json()["detail"]
    assert queue.count == 0
    assert post(client, [good(i) for i in range(1000)]).json()["accepted"] == 1000
    drain(queue)
    assert count_events(db) == 1000


def test_body_over_limit_is_413_and_accepts_nothing(client: TestClient, queue: Queue) -> None:
    filler = "x" * 30_000
    events = [with_(event_id=f"big-{i}", properties={"f": filler}) for i in range(180)]
    body = orjson.dumps(events)
    assert len(body) > 5 * 1024 * 1024
    reply = post(client, body)
    assert reply.status_code == 413
    assert "larger than 5242880 bytes" in reply.json()["detail"]
    assert queue.count == 0


def test_streamed_body_is_cut_at_the_limit(live_api: str, queue: Queue) -> None:
    """A chunked body with no Content-Length: the server stops reading at the limit."""
    host, port = live_api.removeprefix("http://").split(":")
    chunk = b'{"event_id": "x", "user_id": "u"},' * 2000
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n1\r\n[\r\n"
        )
        reply = b""
        while sent < 1024 * 1024 * 1024:  # 1 GiB if the server never stopped reading
            if select.select([sock], [], [], 0)[0]:
                reply = sock.recv(65536)
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                reply = sock.recv(65536)
                break
            sent += len(chunk)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert sent < 64 * 1024 * 1024
    assert queue.count == 0


def test_gzip_body_is_accepted(client: TestClient, queue: Queue, db: psycopg.Connection) -> None:
    body = gzip.compress(orjson.dumps([good(i) for i in range(50)]))
    reply = post(client, body, headers={"Content-Encoding": "gzip"})
    assert reply.status_code == 202
    assert reply.json()["accepted"] == 50
    drain(queue)
    assert count_events(db) == 50


def test_gzip_bomb_stops_at_the_limit(client: TestClient, queue: Queue) -> None:
    bomb = gzip.compress(b"[" + b" " * (1024 * 1024 * 1024) + b"]", compresslevel=9)
    assert len(bomb) < 2 * 1024 * 1024
    reply = post(client, bomb, headers={"Content-Encoding": "gzip"})
    assert reply.status_code == 413
    assert "larger than 5242880 bytes" in reply.json()["detail"]
    assert queue.count == 0


def test_docs_describe_the_request_and_response(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post_op = spec["paths"]["/events"]["post"]
    body = post_op["requestBody"]["content"]["application/json"]
    assert body["schema"]["type"] == "array"
    assert body["example"][0]["event_type"] == "page_view"
    assert set(post_op["responses"]) >= {"202", "400", "413", "415", "422", "503"}
    assert client.get("/docs").status_code == 200
