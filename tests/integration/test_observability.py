"""Metrics and logs: exact counter movements, request ids from the API into the worker's job."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx2
import orjson
import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from core.settings import Settings
from tests.bad_events import FAR_FUTURE, with_
from tests.conftest import drain, free_port, start_process, stop_process

JSON = {"Content-Type": "application/json"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_counters_move_by_exactly_what_was_posted(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    before = parse(client.get("/metrics").text)
    events = [
        with_(event_id="m-1"),
        with_(event_id="m-2"),
        with_(event_id="m-1", user_id="again"),  # a later copy within the request
        with_(event_id="m-3", user_id=7),
        with_(event_id="m-4", occurred_at=FAR_FUTURE),
        with_(event_id="m-5", occurred_at=FAR_FUTURE),
    ]
    reply = client.post("/events", content=orjson.dumps(events), headers=JSON)
    assert reply.status_code == 202
    queued = parse(client.get("/metrics").text)
    assert value(queued, "eventmart_queue_depth", queue=queue.name) == 1
    drain(queue)
    # a second batch: one event already stored, one new
    again = [with_(event_id="m-1"), with_(event_id="m-6")]
    assert client.post("/events", content=orjson.dumps(again), headers=JSON).status_code == 202
    drain(queue)
    assert client.post("/events", content=b"[1]", headers=JSON).status_code == 422
    after = parse(client.get("/metrics").text)

    assert moved(before, after, "eventmart_events_accepted_total") == 4
    assert moved(before, after, "eventmart_events_duplicate_in_request_total") == 1
    rejected = "eventmart_events_rejected_total"
    assert moved(before, after, rejected, reason="user_id: not a string") == 1
    assert moved(before, after, rejected, reason="occurred_at: in the future") == 2
    assert moved(before, after, rejected, reason="event: not an object") == 1
    requests = "eventmart_http_requests_total"
    assert moved(before, after, requests, method="POST", route="/events", status="202") == 2
    assert moved(before, after, requests, method="POST", route="/events", status="422") == 1
    assert moved(before, after, requests, method="GET", route="/metrics", status="200") == 2
    latency = "eventmart_http_request_duration_seconds_count"
    assert moved(before, after, latency, method="POST", route="/events") == 3
    assert moved(before, after, "eventmart_raw_rows_inserted_total", source="api") == 3
    assert moved(before, after, "eventmart_raw_rows_duplicate_total", source="api") == 1
    jobs = "eventmart_job_duration_seconds_count"
    assert moved(before, after, jobs, job="land_batch", outcome="success") == 2
    assert value(after, "eventmart_queue_depth", queue=queue.name) == 0
    assert value(after, "eventmart_redis_up") == 1


def test_unknown_paths_and_methods_do_not_create_label_values(client: TestClient) -> None:
    client.get("/no/such/path/12345")
    client.request("BREW", "/events")
    text = client.get("/metrics").text
    assert "12345" not in text
    assert "BREW" not in text
    assert 'route="unmatched",status="404"' in text


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    given = client.get("/health", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    generated = client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    forged = client.get("/health", headers={"X-Request-ID": 'x" injected\\n'})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def test_request_id_reaches_the_worker_and_metrics_add_up_across_processes(
    redis_conn: redis.Redis,
    db: psycopg.Connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "write-key-never-logged-0123456789"
    monkeypatch.setenv("EVENTMART_WRITE_KEYS", secret)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    api_port, worker_port = free_port(), free_port()
    monkeypatch.setenv("EVENTMART_LOG_FILE", str(tmp_path / "api.log"))
    api = start_process(["serve", "--port", str(api_port), "--workers", "2"], "ops-multi-api")
    monkeypatch.setenv("EVENTMART_LOG_FILE", str(tmp_path / "worker.log"))
    monkeypatch.setenv("EVENTMART_METRICS_PORT", str(worker_port))
    worker = start_process(["worker"], "ops-metrics-worker")
    url = f"http://127.0.0.1:{api_port}"
    try:
        wait_for(f"{url}/health")
        wait_for(f"http://127.0.0.1:{worker_port}/metrics")
        headers = {**JSON, "Authorization": f"Bearer {secret}", "X-Request-ID": "trace-e2e-1"}
        body = orjson.dumps([with_(event_id="log-1"), with_(event_id="log-2")])
        reply = httpx2.post(f"{url}/events?wait=true", content=body, headers=headers, timeout=30)
        assert reply.status_code == 202
        assert reply.headers["x-request-id"] == "trace-e2e-1"
        assert reply.json()["landed"] is True
        # more requests, each on a new connection, so both API processes serve some
        for i in range(8):
            more = orjson.dumps([with_(event_id=f"multi-{i}")])
            extra = {**headers, "X-Request-ID": f"trace-multi-{i}"}
            assert httpx2.post(f"{url}/events", content=more, headers=extra).status_code == 202
        # every scrape, whichever process answers it, reports the sum over both
        for _ in range(4):
            samples = parse(httpx2.get(f"{url}/metrics").text)
            assert value(samples, "eventmart_events_accepted_total") == 10
            requests = value(
                samples,
                "eventmart_http_requests_total",
                method="POST",
                route="/events",
                status="202",
            )
            assert requests == 9
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            worker_samples = parse(httpx2.get(f"http://127.0.0.1:{worker_port}/metrics").text)
            if value(worker_samples, "eventmart_raw_rows_inserted_total", source="api") == 10:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the worker's metrics never showed 10 inserted rows")
    finally:
        stop_process(api)
        stop_process(worker)

    api_lines = read_json_lines(tmp_path / "api.log")
    traced = [line for line in api_lines if line.get("request_id") == "trace-e2e-1"]
    assert {line["event"] for line in traced} >= {"events_accepted", "request"}
    assert all(line["process"] == "api" for line in traced)
    worker_lines = read_json_lines(tmp_path / "worker.log")
    landed = [line for line in worker_lines if line.get("event") == "batch_landed"]
    assert any(line.get("request_id") == "trace-e2e-1" for line in landed)
    for line in landed:
        assert line["job_id"].startswith("batch-")
        assert line["batch_size"] == line["rows"]
    everything = (tmp_path / "api.log").read_text() + (tmp_path / "worker.log").read_text()
    assert secret not in everything
    assert "page_view" not in everything  # no payloads in the logs


def test_an_unhandled_error_is_a_500_that_keeps_the_request_id(
    settings: Settings, redis_conn: redis.Redis
) -> None:
    from api.app import create_app

    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    with TestClient(app) as client:
        reply = client.get("/boom", headers={"X-Request-ID": "trace-boom"})
        assert reply.status_code == 500
        assert reply.json() == {"detail": "internal server error"}
        assert reply.headers["x-request-id"] == "trace-boom"
        samples = parse(client.get("/metrics").text)
        requests = "eventmart_http_requests_total"
        assert value(samples, requests, method="GET", route="/boom", status="500") == 1


def test_refresh_and_freshness_metrics(
    client: TestClient, queue: Queue, db: psycopg.Connection, settings: Settings
) -> None:
    from jobs.refresh import refresh_marts

    before = parse(client.get("/metrics").text)
    body = orjson.dumps([with_(event_id="fresh-1")])
    assert client.post("/events", content=body, headers=JSON).status_code == 202
    drain(queue)
    result = refresh_marts(settings)
    assert result.success, result.errors
    assert result.loaded_through is not None
    after = parse(client.get("/metrics").text)
    runs = "eventmart_refresh_duration_seconds_count"
    assert moved(before, after, runs, outcome="success") == 1
    assert value(after, "eventmart_marts_loaded_through_timestamp_seconds") == pytest.approx(
        result.loaded_through.timestamp()
    )
    lag = value(after, "eventmart_freshness_lag_seconds")
    assert 0 <= lag < 300
    assert value(after, "eventmart_refresh_last_success_timestamp_seconds") > 0
    assert value(after, "eventmart_marts_refreshed_at_timestamp_seconds") > 0
