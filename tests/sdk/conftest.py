"""The real SDKs against a live `eventmart serve` (write keys set, a small queue limit).

One API process serves the whole SDK suite; each test starts from an empty raw.events,
raw.rejects and Redis DB and lands what was queued with `drain` (the real worker code).
The retry tests fill the queue to EVENTMART_MAX_QUEUE_DEPTH so that the API itself answers
503 + Retry-After; the SDK must send again and nothing may land twice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest
import redis
from rq import Queue

from core.settings import Settings
from tests.conftest import REPO_ROOT, drain, running_api

SEGMENT_KEY = "SEG_WRITE_KEY_1234567890"
POSTHOG_KEY = "phc_PROJECT_KEY_1234567890"
QUEUE_LIMIT = 20  # room for a few requests between two drains; fill_queue uses it all
NODE_DIR = REPO_ROOT / "tests" / "sdk" / "node"
T = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)  # the client-side time tests pass
BAD_EVENT = "x" * 300  # event_type is at most 256 characters


@pytest.fixture(scope="session")
def capture_api(settings: Settings) -> Iterator[str]:
    """`eventmart serve` with both SDK keys and a queue limit of QUEUE_LIMIT batches."""
    extra = {
        "EVENTMART_WRITE_KEYS": f"{SEGMENT_KEY},{POSTHOG_KEY}",
        "EVENTMART_MAX_QUEUE_DEPTH": str(QUEUE_LIMIT),
    }
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        with running_api("sdk-api") as url:
            restore(saved)
            yield url
    finally:
        restore(saved)


def restore(saved: dict[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def sdk_db(db: psycopg.Connection, redis_conn: redis.Redis) -> psycopg.Connection:
    """Empty raw.events, raw.rejects and Redis DB."""
    db.execute("truncate raw.rejects")
    return db


@pytest.fixture(scope="session")
def node_sdks() -> Path:
    """tests/sdk/node with its locked packages installed (`npm ci` once if missing)."""
    if not (NODE_DIR / "node_modules" / "posthog-js" / "package.json").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the Node SDK tests (Node 20)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    return NODE_DIR


@dataclass(frozen=True)
class Stored:
    event_id: str
    user_id: str
    event_type: str
    occurred_at: datetime
    properties: dict[str, Any]
    received_at: datetime


def stored(conn: psycopg.Connection) -> list[Stored]:
    rows = conn.execute(
        "select event_id, user_id, event_type, occurred_at, properties, received_at"
        " from raw.events where event_type <> 'filler' order by event_id"
    ).fetchall()
    return [Stored(*row) for row in rows]


def by_type(rows: list[Stored]) -> dict[str, Stored]:
    found: dict[str, Stored] = {}
    for row in rows:
        assert row.event_type not in found, f"{row.event_type} stored twice"
        found[row.event_type] = row
    return found


def rejected(conn: psycopg.Connection) -> list[tuple[str, str | None, str]]:
    return conn.execute("select source, message_id, reason from raw.rejects").fetchall()


def bad_event_reason() -> str:
    return f"event_type: must be 1-256 characters (got {len(BAD_EVENT)})"


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll until `check()` holds (a deadline for progress, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def fill_queue(queue: Queue, settings: Settings) -> None:
    """QUEUE_LIMIT pending batches: the API answers 503 until they are drained."""
    from jobs.queue import enqueue_batch

    now = datetime.now(UTC)
    for n in range(QUEUE_LIMIT):
        enqueue_batch(queue, [(f"filler-{n}", "u", "filler", now, "{}", now)], settings)
    assert queue.count == QUEUE_LIMIT


def answered(api: str, route: str, status: int) -> float:
    """How many requests `route` answered with `status` (the API's own request counter)."""
    text = httpx2.get(f"{api}/metrics", timeout=5).text
    needle = f'route="{route}",status="{status}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("eventmart_http_requests_total{") and needle in line
    )


def refuse_once_then_land(
    api: str, route: str, queue: Queue, settings: Settings, sending: Callable[[], bool]
) -> None:
    """With the queue full, wait for the SDK's first send to get 503; then make room and
    wait until `sending()` is False (the SDK re-sent and was answered 200)."""
    before = answered(api, route, 503)
    wait_for(lambda: answered(api, route, 503) > before, f"a 503 on {route}")
    drain(queue)  # the fillers land (stored() leaves them out) and the queue has room again
    wait_for(lambda: not sending(), "the SDK to deliver after its retry")
    drain(queue)


def assert_time_corrected(row: Stored, client_time: datetime, sent_after: datetime) -> None:
    """occurred_at = received_at - (sent - client_time), with sent in [sent_after, received_at]."""
    assert client_time <= row.occurred_at <= client_time + (row.received_at - sent_after)


def assert_recent(row: Stored, sent_after: datetime) -> None:
    """No client time to correct beyond the SDK's own clock: between the call and receipt."""
    assert sent_after <= row.occurred_at <= row.received_at
