"""The capture routes over HTTP against real Redis and PostgreSQL: keys, bodies, answers,
rejects, CORS and stubs (the real SDKs themselves are driven in tests/sdk)."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from rq import Queue
from typer.testing import CliRunner

from core.settings import Settings
from tests.conftest import count_events, drain

SEGMENT_KEY = "SEG_WRITE_KEY_123456"
POSTHOG_KEY = "phc_PROJECT_KEY_123456"
NOW = datetime.now(UTC).isoformat()


def track(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{i}",
        "messageId": f"msg-{i}",
        "timestamp": NOW,
        **extra,
    }


def ph_event(i: int, **extra: Any) -> dict[str, Any]:
    return {"event": "order completed", "uuid": f"uuid-{i}", "distinct_id": f"d-{i}", **extra}


def make_client(settings: Settings, **update: Any) -> TestClient:
    from api.app import create_app

    return TestClient(create_app(settings.model_copy(update=update)))


@pytest.fixture
def rejects_db(db: psycopg.Connection) -> psycopg.Connection:
    db.execute("truncate raw.rejects")
    return db


@pytest.fixture
def keyed(
    settings: Settings, rejects_db: psycopg.Connection, redis_conn: redis.Redis
) -> Iterator[TestClient]:
    with make_client(settings, write_keys=[SEGMENT_KEY, POSTHOG_KEY]) as client:
        yield client


def error_of(reply: Any) -> dict[str, Any]:
    body = reply.json()
    assert set(body) == {"code", "message", "detail"}, body
    return body


def rejects(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select source, message_id, reason, payload from raw.rejects order by message_id"
    ).fetchall()


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        (
            "/v1/batch",
            {"batch": [track(1)]},
            {"Authorization": "Basic " + base64.b64encode(f"{SEGMENT_KEY}:".encode()).decode()},
        ),
        ("/v1/batch", {"batch": [track(1)], "writeKey": SEGMENT_KEY}, {}),
        ("/v1/track", {**track(1), "writeKey": SEGMENT_KEY}, {}),
        ("/v1/batch", {"batch": [track(1)]}, {"Authorization": f"Bearer {SEGMENT_KEY}"}),
        ("/batch/", {"api_key": POSTHOG_KEY, "batch": [ph_event(1)]}, {}),
        ("/e/", [ph_event(1, properties={"token": POSTHOG_KEY})], {}),
        ("/capture", {**ph_event(1), "api_key": POSTHOG_KEY}, {}),
    ],
)
def test_keys_however_carried(
    keyed: TestClient,
    queue: Queue,
    rejects_db: psycopg.Connection,
    path: str,
    body: Any,
    headers: dict[str, str],
) -> None:
    reply = keyed.post(path, content=orjson.dumps(body), headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["accepted"] == 1
    drain(queue)
    assert count_events(rejects_db) == 1
    row = rejects_db.execute("select properties from raw.events").fetchone()
    assert row is not None and "token" not in row[0]  # the project key is not stored


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/batch", {"batch": [track(1)]}, 401, "missing_write_key"),
        (
            "/v1/batch",
            {"batch": [track(1)], "writeKey": "wrong-key-0123456789"},
            403,
            "invalid_write_key",
        ),
        ("/batch", {"batch": [ph_event(1)]}, 401, "missing_write_key"),
        (
            "/i/v0/e/",
            {"api_key": POSTHOG_KEY, "batch": [ph_event(1, properties={"token": "other"})]},
            403,
            "invalid_write_key",
        ),
    ],
)
def test_wrong_or_missing_key(
    keyed: TestClient, queue: Queue, path: str, body: Any, status: int, code: str
) -> None:
    reply = keyed.post(path, content=orjson.dumps(body))
    assert reply.status_code == status
    assert error_of(reply)["code"] == code
    assert queue.count == 0


def test_open_without_keys_and_production_refuses(
    settings: Settings, client: TestClient, queue: Queue
) -> None:
    assert client.post("/v1/batch", json={"batch": [track(1)]}).status_code == 200
    from api.app import create_app
    from api.auth import InsecureConfigError

    with pytest.raises(InsecureConfigError):
        create_app(settings.model_copy(update={"env": "production"}))


@pytest.mark.parametrize(
    ("content", "status", "fragment"),
    [
        (b"{not json", 400, "not valid UTF-8 JSON"),
        (b'{"batch": "x"}', 400, "`batch` array"),
        (b'{"batch": []}', 400, "the batch is empty"),
        (
            orjson.dumps({"batch": [track(i) for i in range(1001)]}),
            413,
            "more than the limit of 1000",
        ),
        (gzip.compress(b" " * (5 * 1024 * 1024 + 10)), 413, "larger than"),
        (b"\x1f\x8b\x08\x00garbage", 400, "gzip data"),
    ],
)
def test_permanent_errors_have_code_message_detail(
    keyed: TestClient, content: bytes, status: int, fragment: str
) -> None:
    reply = keyed.post("/v1/batch", content=content, auth=(SEGMENT_KEY, ""))
    assert reply.status_code == status
    assert fragment in error_of(reply)["detail"]


def test_gzip_and_base64_bodies_whatever_the_content_type(
    keyed: TestClient, queue: Queue, rejects_db: psycopg.Connection
) -> None:
    segment = orjson.dumps({"batch": [track(1)], "writeKey": SEGMENT_KEY})
    posthog = orjson.dumps({"api_key": POSTHOG_KEY, "batch": [ph_event(2)]})
    sends = [
        (
            "/v1/batch",
            gzip.compress(segment),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        ("/v1/batch", gzip.compress(segment), {"Content-Encoding": "gzip"}),
        ("/e/?compression=gzip-js", gzip.compress(posthog), {"Content-Type": "text/plain"}),
        (
            "/e/?compression=base64",
            b"data=" + base64.b64encode(posthog),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ]
    for path, content, headers in sends:
        assert keyed.post(path, content=content, headers=headers).status_code == 200
    drain(queue)
    assert count_events(rejects_db) == 2  # the same two events each time: nothing twice


def test_invalid_messages_are_kept_in_rejects_and_counted(
    keyed: TestClient, queue: Queue, rejects_db: psycopg.Connection
) -> None:
    batch = [
        track(1),
        track(2, userId=None),
        track(3, type="bogus"),
        track(4, properties={"x": "y" * 40000}),
    ]
    body = orjson.dumps({"batch": batch, "writeKey": SEGMENT_KEY})
    before = keyed.get("/metrics").text
    for _ in range(2):  # an SDK's retry of the same batch
        reply = keyed.post("/v1/batch", content=body)
        assert reply.status_code == 200
        assert reply.json() == {
            "success": True,
            "accepted": 1,
            "rejected": 3,
            "duplicates_in_request": 0,
        }
    drain(queue)
    assert count_events(rejects_db) == 1
    found = rejects(rejects_db)
    assert [(r[0], r[1], r[2]) for r in found] == [
        ("segment", "msg-2", "user_id: required"),
        (
            "segment",
            "msg-3",
            "event: type must be one of track, page, screen, identify, group, alias (got 'bogus')",
        ),
        (
            "segment",
            "msg-4",
            f"properties: {len(orjson.dumps({'x': 'y' * 40000}))} bytes is larger than 32768 bytes",
        ),
    ]
    assert orjson.loads(found[0][3]) == orjson.loads(
        orjson.dumps(batch[1], option=orjson.OPT_SORT_KEYS)
    )
    assert len(found[2][3]) == 4096  # a capped copy
    after = keyed.get("/metrics").text
    assert (
        metric(after, 'eventmart_events_rejected_total{reason="user_id: required"}')
        - metric(before, 'eventmart_events_rejected_total{reason="user_id: required"}')
        == 2
    )
    listed = CliRunner().invoke(cli_app(), ["rejects", "--limit", "2", "--since", "1h"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("segment") == 2


def cli_app() -> Any:
    from cli.main import cli

    return cli


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_all_invalid_still_answers_200(
    keyed: TestClient, queue: Queue, rejects_db: psycopg.Connection
) -> None:
    reply = keyed.post(
        "/batch/", json={"api_key": POSTHOG_KEY, "batch": [{"event": "x", "uuid": "u1"}]}
    )
    assert reply.status_code == 200
    assert reply.json()["rejected"] == 1
    drain(queue)
    assert rejects(rejects_db)[0][:3] == ("posthog", "u1", "user_id: required")


def test_overload_is_503_with_retry_after(
    settings: Settings, rejects_db: psycopg.Connection, redis_conn: redis.Redis, queue: Queue
) -> None:
    from jobs.queue import enqueue_batch

    enqueue_batch(queue, [("filler", "u", "t", NOW, "{}", NOW)], settings)
    with make_client(settings, max_queue_depth=1) as client:
        for path, body in (
            ("/v1/batch", {"batch": [track(1)]}),
            ("/batch", {"batch": [ph_event(1)]}),
        ):
            reply = client.post(path, json=body)
            assert reply.status_code == 503
            assert reply.headers["Retry-After"] == "5"
            assert error_of(reply)["code"] == "unavailable"


def test_rate_limit_is_503_on_posthog_and_429_on_segment(
    settings: Settings, rejects_db: psycopg.Connection, redis_conn: redis.Redis
) -> None:
    with make_client(settings, rate_limit="1/minute") as client:
        assert client.post("/batch", json={"batch": [ph_event(1)]}).status_code == 200
        limited = client.post("/batch", json={"batch": [ph_event(2)]})
        assert limited.status_code == 503
        assert int(limited.headers["Retry-After"]) >= 1
        assert error_of(limited)["code"] == "rate_limited"
        segment = client.post("/v1/batch", json={"batch": [track(1)]})
        assert segment.status_code == 429
        assert error_of(segment)["code"] == "rate_limited"


def test_cors_on_capture_routes_only(
    settings: Settings, rejects_db: psycopg.Connection, redis_conn: redis.Redis
) -> None:
    preflight = {
        "Origin": "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    with make_client(settings) as client:
        reply = client.options("/e/", headers=preflight)
        assert reply.status_code == 200
        assert reply.headers["access-control-allow-origin"] == "*"
        posted = client.post(
            "/i/v0/e/", json={"batch": [ph_event(1)]}, headers={"Origin": "https://shop.example"}
        )
        assert posted.headers["access-control-allow-origin"] == "*"
        assert (
            "access-control-allow-origin"
            not in client.options("/events", headers=preflight).headers
        )
    with make_client(settings, cors_origins=["https://shop.example"]) as client:
        assert (
            client.options("/v1/batch", headers=preflight).headers["access-control-allow-origin"]
            == "https://shop.example"
        )
        other = client.options("/v1/batch", headers={**preflight, "Origin": "https://evil.example"})
        assert other.status_code == 400


def test_stubs_answer(keyed: TestClient) -> None:
    for method, path in (("POST", "/flags/?v=2"), ("POST", "/decide/?v=3"), ("GET", "/flags")):
        reply = keyed.request(method, path)
        assert reply.status_code == 200
        assert reply.json()["featureFlags"] == {}
    config = keyed.get("/array/phc_abc/config").json()
    assert config["supportedCompression"] == ["gzip-js"]
    script = keyed.get("/array/phc_abc/config.js")
    assert script.headers["content-type"].startswith("application/javascript")
    assert 'c["phc_abc"]=' in script.text and '"gzip-js"' in script.text


def test_redis_down_is_503_with_retry_after_on_both_families(
    settings: Settings, rejects_db: psycopg.Connection, tmp_path: Any
) -> None:
    from tests.integration.test_backpressure import ThrowawayRedis

    server = ThrowawayRedis(tmp_path)
    server.start()
    try:
        with make_client(settings, redis_url=server.url) as client:
            server.stop()
            for path, body in (("/v1/batch", {"batch": [track(1)]}), ("/e/", [ph_event(1)])):
                reply = client.post(path, json=body)
                assert reply.status_code == 503
                assert reply.headers["Retry-After"] == "5"
                assert error_of(reply) == {
                    "code": "unavailable",
                    "message": "queue unavailable",
                    "detail": "queue unavailable; retry later",
                }
    finally:
        server.stop()
