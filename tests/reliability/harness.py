"""Servers, service processes, load generators and figures for the reliability scenarios.

Every scenario runs its own redis-server (AOF, as in docker-compose) on a free port, its own
database, and `python -m cli serve|worker` subprocesses pointed at them, so that killing
or restarting anything never touches the machine's shared services.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import orjson
import psycopg
import redis
from psycopg.conninfo import make_conninfo

REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = REPO_ROOT / ".eventmart" / "reliability"
RESULTS = Path(os.environ.get("EVENTMART_RELIABILITY_RESULTS", LOG_DIR / "results.json")).resolve()
# `ci` keeps the suite inside its time budget; `full` is the scale quoted in docs/reliability.md.
SCALE = os.environ.get("EVENTMART_RELIABILITY_SCALE", "ci")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float, interval: float = 0.2, what: str = "") -> float:
    """Poll `predicate` until true; return the seconds it took (AssertionError on timeout)."""
    started = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - started
        except Exception:
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def poll_for(fetch: Any, timeout: float, interval: float, what: str) -> Any:
    """Call `fetch` until it returns something truthy; return that (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# ---------------------------------------------------------------- Redis


class RedisServer:
    """A private redis-server with AOF (appendonly yes, appendfsync everysec)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5, socket_connect_timeout=2)

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        args += ["--dir", str(self.directory), "--daemonize", "no"]
        with open(self.directory / "redis.log", "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        wait_until(lambda: self.client().ping(), 20, 0.05, "redis-server to answer")

    def shutdown(self) -> None:
        """A graceful restart's first half: SHUTDOWN fsyncs the AOF, then the server exits."""
        assert self.process is not None
        with suppress(redis.ConnectionError):
            self.client().shutdown()
        self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


# ---------------------------------------------------------------- PostgreSQL


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new database with the raw schema on `server_url`; dropped afterwards."""
    from loaders.migrate import migrate

    name = f"eventmart_rel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_conninfo(server_url, dbname=name)
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


class EmbeddedPostgres:
    """A private PostgreSQL (pgserver) that a scenario may stop and start again."""

    def __init__(self, pgdata: Path) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        self.server = pgserver.get_server(pgdata, cleanup_mode="stop")
        self.pgdata = pgdata
        self.url = self.server.get_uri()
        info = self.server.get_postmaster_info()
        self.socket_dir = str(info.socket_path.parent if info.socket_path else pgdata)

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        log = str(self.pgdata / "log")
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")

    def close(self) -> None:
        # pgserver only stops the postmaster it started itself; after a restart that is gone.
        with suppress(subprocess.CalledProcessError):
            self.stop()
        self.server.cleanup()


# ---------------------------------------------------------------- service processes


def service_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTMART_")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EVENTMART_RATE_LIMIT="10000000/minute",  # these scenarios are one very busy client
        EVENTMART_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Service:
    """`python -m cli <args>` in its own session, so kill -9 takes its children too."""

    def __init__(self, args: list[str], env: dict[str, str], name: str) -> None:
        self.args = args
        self.env = env
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Service:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with open(LOG_DIR / f"{self.name}.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", *self.args],
                env=self.env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the whole process group (the worker and its scheduler child)."""
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill9()
        except ProcessLookupError:
            pass


class Api(Service):
    def __init__(self, env: dict[str, str], name: str = "api") -> None:
        self.port = free_port()
        super().__init__(["serve", "--port", str(self.port)], env, name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Api:
        super().start()
        try:
            wait_until(
                lambda: httpx2.get(f"{self.url}/health", timeout=1).status_code == 200,
                60,
                what=f"the API ({LOG_DIR / self.name}.log)",
            )
        except AssertionError:
            self.stop()
            raise
        return self

    def rss_kib(self) -> int:
        """Resident memory of the API process, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


# ---------------------------------------------------------------- load


def make_events(count: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    """Realistic events (benchmark.py's seeded generator), ending a few minutes ago."""
    from benchmark import generate_events

    return generate_events(count, seed, prefix=prefix)


def batches(events: list[dict[str, Any]], size: int) -> list[bytes]:
    return [orjson.dumps(events[i : i + size]) for i in range(0, len(events), size)]


@dataclass
class Ledger:
    """What the clients were told: event ids in 202 answers, and every status seen."""

    accepted_ids: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    max_latency: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: int, latency: float, ids: list[str] | None = None) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.max_latency = max(self.max_latency, latency)
            if ids:
                self.accepted_ids.update(ids)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


def post_until_accepted(
    client: httpx2.Client, url: str, body: bytes, ledger: Ledger, deadline: float
) -> None:
    """POST a batch as a careful producer would: retry on 503, 5xx and connection errors."""
    ids = [e["event_id"] for e in orjson.loads(body)]
    delay = 0.2
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            reply = client.post(
                f"{url}/events", content=body, headers={"Content-Type": "application/json"}
            )
        except httpx2.HTTPError as exc:
            ledger.error(type(exc).__name__)
            time.sleep(delay)
            continue
        latency = time.monotonic() - started
        if reply.status_code == 202:
            data = reply.json()
            assert data["accepted"] == len(ids) and not data["rejected"], data
            ledger.note(202, latency, ids)
            return
        ledger.note(reply.status_code, latency)
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)
    raise AssertionError("a batch was never accepted before the deadline")


def run_clients(
    url: str, bodies: list[bytes], ledger: Ledger, clients: int, deadline: float
) -> list[threading.Thread]:
    """Start `clients` threads that post `bodies` (shared work list) until all are accepted."""
    work = list(bodies)
    lock = threading.Lock()

    def client_loop() -> None:
        with httpx2.Client(timeout=httpx2.Timeout(30, connect=5)) as client:
            while True:
                with lock:
                    if not work:
                        return
                    body = work.pop(0)
                post_until_accepted(client, url, body, ledger, deadline)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    return threads


def shuffled(items: list[Any], seed: int) -> list[Any]:
    out = list(items)
    random.Random(seed).shuffle(out)
    return out


# ---------------------------------------------------------------- verification


def landed_counts(database_url: str) -> tuple[int, int]:
    """(rows in raw.events, distinct event ids) — equal unless something was duplicated."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select count(*), count(distinct event_id) from raw.events").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def landed_ids(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        return {r[0] for r in conn.execute("select event_id from raw.events")}


def wait_all_landed(database_url: str, redis_url: str, ledger: Ledger, timeout: float) -> float:
    """Wait until every event that got a 202 is in raw.events and the queue is idle."""
    return wait_until(
        lambda: (
            landed_counts(database_url)[0] >= len(ledger.accepted_ids) and queue_settled(redis_url)
        ),
        timeout,
        0.5,
        "every accepted event to land",
    )


def queue_settled(redis_url: str, queue_name: str = "eventmart-ingest") -> bool:
    """Nothing queued, running or waiting for a retry."""
    from rq import Queue

    conn = redis.Redis.from_url(redis_url, socket_timeout=5)
    queue = Queue(queue_name, connection=conn)
    return (
        queue.count == 0
        and queue.started_job_registry.get_job_count() == 0
        and queue.scheduled_job_registry.get_job_count() == 0
    )


@dataclass
class Figures:
    """One row of docs/reliability.md."""

    scenario: str
    scale: str
    sent: int
    accepted: int
    landed: int
    lost: int
    duplicated: int
    recovery_seconds: float | None
    details: dict[str, Any] = field(default_factory=dict)


def record(figures: Figures) -> None:
    """Add a scenario's figures to the results file (one JSON object per scenario)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if RESULTS.exists():
        results = json.loads(RESULTS.read_text() or "{}")
    entry = asdict(figures)
    entry["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results[figures.scenario] = entry
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\n[reliability] {json.dumps(entry)}")
