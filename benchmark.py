"""benchmark.py: measure eventmart end to end on this machine, as ratios to its own limit.

    python benchmark.py [--events N | --quick] [--only limit,ingest,...] [--api-workers 2]

Creates a scratch database and Redis DB (on DATABASE_URL / REDIS_URL, else embedded servers),
starts the processes it measures, stops them, drops what it created, and writes
bench-results/<timestamp>.json and .md. See docs/performance.md for the method.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice
from pathlib import Path
from typing import Any

import httpx2
import orjson
import psutil
import psycopg
import redis
import structlog
from psycopg.conninfo import make_conninfo
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent
STAGES = [
    "limit",
    "ingest",
    "sdk_ingest",
    "loader",
    "refresh",
    "reads",
    "peers",
    "freshness",
    "dashboard",
]
READ_KEY = "bench-read-key"  # reads run with auth on, as a deployment would
AUTH = {"Authorization": f"Bearer {READ_KEY}"}
console = Console(stderr=True)

# ---------------------------------------------------------------- data


EVENT_TYPES = [
    ("page_view", 50),
    ("click", 20),
    ("scroll", 10),
    ("search", 6),
    ("add_to_cart", 5),
    ("signup", 3),
    ("checkout", 2),
    ("purchase", 2),
    ("share", 1),
    ("logout", 1),
]
PATHS = ["/", "/pricing", "/docs/getting-started", "/blog/2026/launch", "/account/settings"]
# The breakdown properties the scratch service is configured with (/stats/trends, the
# breakdown models): a few values (path) and two (ok); `session` is unique per event.
BREAKDOWN_PROPERTIES = "path,ok"


@dataclass
class Dataset:
    """The generated events as a JSON Lines file, streamed so that 10M events fit anywhere."""

    path: Path
    count: int

    def lines(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            yield from handle

    def chunks(self, size: int) -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        for line in self.lines():
            chunk.append(orjson.loads(line))
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


class EventMaker:
    """Seeded events with a realistic shape: Zipf-skewed users and types, ~100-byte properties."""

    def __init__(self, total: int, seed: int, days: int = 90, end: datetime | None = None):
        self.rng = random.Random(seed)
        self.seed = seed
        self.days = days
        self.end = end or datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        self.users = max(100, total // 20)
        # A few heavy users and a long tail: Zipf-like weights over user ranks.
        self.user_weights = list(accumulate(1 / (r + 1) ** 0.8 for r in range(self.users)))
        self.type_names = [name for name, _ in EVENT_TYPES]
        self.type_weights = list(accumulate(w for _, w in EVENT_TYPES))

    def make(self, start: int, count: int, prefix: str = "ev") -> list[dict[str, Any]]:
        rng = self.rng
        users = rng.choices(range(self.users), cum_weights=self.user_weights, k=count)
        types = rng.choices(self.type_names, cum_weights=self.type_weights, k=count)
        span = self.days * 86400
        out = []
        for i in range(count):
            when = self.end - timedelta(
                seconds=rng.randrange(span), microseconds=rng.randrange(10**6)
            )
            out.append(
                {
                    "event_id": f"{prefix}-{self.seed}-{start + i:09d}",
                    "user_id": f"user-{users[i]:07d}",
                    "event_type": types[i],
                    "occurred_at": when.isoformat().replace("+00:00", "Z"),
                    "properties": {
                        "path": rng.choice(PATHS),
                        "session": f"s-{rng.randrange(10**8):08d}",
                        "ms": rng.randrange(5000),
                        "ok": rng.random() < 0.97,
                    },
                }
            )
        return out


def generate_events(
    count: int, seed: int, days: int = 90, prefix: str = "ev"
) -> list[dict[str, Any]]:
    """A small in-memory set of events (increments for the refresh stage)."""
    return EventMaker(count, seed, days).make(0, count, prefix)


def write_dataset(path: Path, count: int, seed: int) -> Dataset:
    """Generate `count` events into a JSON Lines file, 50k at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    maker = EventMaker(count, seed)
    with open(path, "wb") as out:
        for start in range(0, count, 50_000):
            for event in maker.make(start, min(50_000, count - start)):
                out.write(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
    return Dataset(path, count)


def as_rows(events: list[dict[str, Any]], received_at: datetime) -> list[tuple[Any, ...]]:
    """Writer rows (as the API would queue them) from event dicts."""
    from core.events import validate_event

    rows = []
    for event in events:
        ev = validate_event(event, received_at, 86400, may_contain_nul=False)
        rows.append((*ev, received_at))
    return rows


# ---------------------------------------------------------------- environment


# The scratch environment's reporting zones (#18): Kyiv's DST ends on 2026-10-25, inside the
# benchmark's 90 days, so one 25-hour day is in the data.
BENCH_ZONES = ["UTC", "Europe/Kyiv"]


@dataclass
class Env:
    server_url: str
    database_url: str
    redis_url: str
    db_name: str
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def environ(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            EVENTMART_LOG_LEVEL="WARNING",
            EVENTMART_MAX_QUEUE_DEPTH="1000000",
            EVENTMART_RATE_LIMIT="100000000/minute",
            EVENTMART_READ_RATE_LIMIT="100000000/minute",
            EVENTMART_BREAKDOWN_PROPERTIES=BREAKDOWN_PROPERTIES,
            EVENTMART_TIMEZONES=",".join(BENCH_ZONES),
        )
        env.update(extra)
        return env

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url, autocommit=True)


@contextmanager
def scratch_env(redis_db: int) -> Iterator[Env]:
    from core.embedded import urls_or_embedded

    home = ROOT / ".eventmart" / "bench-servers"
    with urls_or_embedded(home, os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")) as (
        server_url,
        redis_url,
    ):
        name = f"eventmart_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'create database "{name}"')
        bench_redis = redis_url if "unix://" in redis_url else _with_db(redis_url, redis_db)
        env = Env(server_url, make_conninfo(server_url, dbname=name), bench_redis, name)
        redis.Redis.from_url(env.redis_url).flushdb()
        try:
            run_cli(env, "migrate")
            yield env
        finally:
            for child in env.children:
                stop(child)
            redis.Redis.from_url(env.redis_url).flushdb()
            with psycopg.connect(server_url, autocommit=True) as admin:
                admin.execute(f'drop database if exists "{name}" with (force)')


def _with_db(url: str, db: int) -> str:
    base, _, tail = url.rpartition("/")
    return f"{base}/{db}" if tail.isdigit() else f"{url.rstrip('/')}/{db}"


def run_cli(env: Env, *args: str, **extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env.environ(**extra),
        check=True,
        capture_output=True,
    )


def spawn(env: Env, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    log_dir = ROOT / ".eventmart"
    log_dir.mkdir(exist_ok=True)
    with open(log_dir / f"bench-{args[0]}.log", "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            env=env.environ(**extra),
            stdout=log,
            stderr=log,
        )
    env.children.append(child)
    return child


def stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()


def start_api(env: Env, workers: int, port: int = 8765, **extra: str) -> str:
    spawn(env, "serve", "--port", str(port), "--workers", str(workers), **extra)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with suppress(httpx2.HTTPError):
            if httpx2.get(f"{url}/ready", timeout=2).status_code == 200:
                return url
        time.sleep(0.3)
    raise RuntimeError("the API did not become ready; see .eventmart/bench-serve.log")


def count_raw(env: Env) -> int:
    with env.connect() as conn:
        row = conn.execute("select count(*) from raw.events").fetchone()
    return int(row[0]) if row else 0


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


# ---------------------------------------------------------------- stages


class StageFailed(RuntimeError):
    """The stage could not produce true figures (a failed refresh, wrong row counts)."""


def stage_limit(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """Bare COPY into an empty raw.events-shaped table, then the same rows through the writer.

    Rows are prepared outside the timed part; each timed unit handles 100k rows.
    """
    from loaders.writer import COPY_BATCH, write_events

    received_at = datetime.now(UTC)
    bare = bare_binary = writer = 0.0
    chunk = args.writer_chunk
    with env.connect() as conn:
        conn.execute("create table bench_copy (like raw.events including all)")
    with psycopg.connect(env.database_url) as conn:
        copy_sql = COPY_BATCH.replace("pg_temp.events_batch", "bench_copy")
        for events in data.chunks(100_000):
            rows = as_rows(events, received_at)
            start = time.perf_counter()
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            bare += time.perf_counter() - start
            conn.execute("truncate bench_copy")
            conn.commit()
            # The same rows in binary format (jsonb's binary form: a version byte, then text).
            binary_rows = [(*r[:4], b"\x01" + r[4].encode(), r[5]) for r in rows]
            start = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"{copy_sql} (format binary)") as copy:
                copy.set_types(["text", "text", "text", "timestamptz", "bytea", "timestamptz"])
                for row in binary_rows:
                    copy.write_row(row)
            conn.commit()
            bare_binary += time.perf_counter() - start
            start = time.perf_counter()
            for i in range(0, len(rows), chunk):
                write_events(conn, rows[i : i + chunk])
            writer += time.perf_counter() - start
    with env.connect() as conn:
        conn.execute("drop table bench_copy")
        conn.execute("truncate raw.events")
    return {
        "rows": data.count,
        "bare_copy_text_rows_per_s": data.count / bare,
        "bare_copy_binary_rows_per_s": data.count / bare_binary,
        "writer_rows_per_s": data.count / writer,
        "writer_chunk_rows": chunk,
    }


def producer_batches(data: Dataset, batch: int, index: int, producers: int) -> Iterator[bytes]:
    """Request bodies for one producer: every `producers`-th batch of raw JSON lines."""
    lines: list[bytes] = []
    number = 0
    for line in data.lines():
        lines.append(line.rstrip(b"\n"))
        if len(lines) == batch:
            if number % producers == index:
                yield b"[" + b",".join(lines) + b"]"
            number += 1
            lines = []
    if lines and number % producers == index:
        yield b"[" + b",".join(lines) + b"]"


def _producer(
    url: str,
    data: Dataset,
    batch: int,
    index: int,
    producers: int,
    out: Any,
    route: tuple[str, int, Callable[[bytes], bytes] | None] = ("/events", 202, None),
) -> None:
    """One load-generator process: POST its batches back to back, report latencies.

    `route`: the path, the success status, and how a JSON array of lines becomes a body."""
    path, ok_status, wrap = route
    latencies: list[float] = []
    accepted = statuses_bad = 0
    proc = psutil.Process()
    with httpx2.Client(timeout=60, headers={"Content-Type": "application/json"}) as client:
        for array in producer_batches(data, batch, index, producers):
            body = wrap(array) if wrap else array
            start = time.perf_counter()
            reply = client.post(f"{url}{path}", content=body)
            latencies.append(time.perf_counter() - start)
            if reply.status_code == ok_status:
                accepted += reply.json()["accepted"]
            else:
                statuses_bad += 1
    cpu = proc.cpu_times()
    out.put(
        {"lat": latencies, "accepted": accepted, "bad": statuses_bad, "cpu": cpu.user + cpu.system}
    )


def post_stream(
    url: str, data: Dataset, batch: int, producers: int, route: tuple[Any, ...] | None = None
) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    extra = (route,) if route else ()
    procs = [
        ctx.Process(target=_producer, args=(url, data, batch, i, producers, out, *extra))
        for i in range(producers)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    latencies = [x for r in results for x in r["lat"]]
    return {
        "seconds": elapsed,
        "accepted": sum(r["accepted"] for r in results),
        "non_202": sum(r["bad"] for r in results),
        "generator_cpu_s": sum(r["cpu"] for r in results),
        **percentiles(latencies),
    }


def wait_until_landed(env: Env, target: int, timeout: float = 1800) -> tuple[int, float]:
    start = time.perf_counter()
    landed = 0
    while time.perf_counter() - start < timeout:
        landed = count_raw(env)
        if landed >= target:
            break
        time.sleep(0.2)
    return landed, time.perf_counter() - start


def stage_ingest(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """Concurrent producers POST batches; time to accept and until every row is in raw.events."""
    with env.connect() as conn:
        conn.execute("truncate raw.events")
    url = start_api(env, args.api_workers)
    workers = [spawn(env, "worker") for _ in range(args.rq_workers)]
    machine_cpu0 = psutil.cpu_times()
    start = time.perf_counter()
    posted = post_stream(url, data, args.batch, args.producers)
    landed, _ = wait_until_landed(env, posted["accepted"])
    total = time.perf_counter() - start
    machine_cpu = psutil.cpu_times()
    with env.connect() as conn:
        distinct = conn.execute("select count(distinct event_id) from raw.events").fetchone()
    replay = post_stream(url, data, args.batch, args.producers)
    time.sleep(2)
    _, _ = wait_until_landed(env, landed, timeout=5)
    drained = _queue_drained(env, timeout=600)
    after_replay = count_raw(env)
    for w in workers:
        stop(w)
    busy = (machine_cpu.user - machine_cpu0.user) + (machine_cpu.system - machine_cpu0.system)
    return {
        "events": data.count,
        "batch": args.batch,
        "producers": args.producers,
        "api_workers": args.api_workers,
        "rq_workers": args.rq_workers,
        **landing_figures(posted, landed, total, distinct, 202),
        "generator_cpu_share": posted["generator_cpu_s"] / max(busy, 1e-9),
        "replay_accepted": replay["accepted"],
        "replay_new_rows": after_replay - landed,
        "replay_drained": drained,
    }


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def segment_dataset(data: Dataset) -> Dataset:
    """The same events as Segment `track` messages (one JSON line each), for /v1/batch."""
    path = data.path.with_name(data.path.stem + "-segment.jsonl")
    with open(path, "wb") as out:
        for line in data.lines():
            event = orjson.loads(line)
            message = {
                "type": "track",
                "messageId": event["event_id"],
                "userId": event["user_id"],
                "event": event["event_type"],
                "timestamp": event["occurred_at"],
                "properties": event["properties"],
            }
            out.write(orjson.dumps(message) + b"\n")
    return Dataset(path, data.count)


def segment_batch_body(array: bytes) -> bytes:
    """A /v1/batch body as segment-python sends it: the messages and the time of sending."""
    sent_at = datetime.now(UTC).isoformat().encode()
    return b'{"batch":' + array + b',"sentAt":"' + sent_at + b'"}'


def stage_sdk_ingest(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """The ingest stage's events as Segment /v1/batch bodies: landed per second, to compare
    with the native /events path (ratio sdk_ingest_over_native when both stages run)."""
    messages = segment_dataset(data)
    with env.connect() as conn:
        conn.execute("truncate raw.events")
    redis.Redis.from_url(env.redis_url).flushdb()  # no earlier job result answers for a batch
    url = start_api(env, args.api_workers, port=free_port())
    api = env.children[-1]
    workers = [spawn(env, "worker") for _ in range(args.rq_workers)]
    start = time.perf_counter()
    route = ("/v1/batch", 200, segment_batch_body)
    posted = post_stream(url, messages, args.batch, args.producers, route)
    landed, _ = wait_until_landed(env, posted["accepted"])
    total = time.perf_counter() - start
    with env.connect() as conn:
        distinct = conn.execute("select count(distinct event_id) from raw.events").fetchone()
    for child in (*workers, api):
        stop(child)
    messages.path.unlink()
    return {
        "events": data.count,
        "batch": args.batch,
        **landing_figures(posted, landed, total, distinct, 200),
    }


def landing_figures(
    posted: dict[str, Any], landed: int, total: float, distinct: Any, ok_status: int
) -> dict[str, Any]:
    """What an ingest-like stage reports: accepted, landed, lost, duplicated, latencies."""
    return {
        "accepted": posted["accepted"],
        f"non_{ok_status}": posted["non_202"],
        "accepted_per_s": posted["accepted"] / posted["seconds"],
        "landed": landed,
        "landed_per_s": landed / total,
        "lost": max(0, posted["accepted"] - landed),
        "duplicated": landed - (distinct[0] if distinct else 0),
        "post_p50_ms": posted["p50_ms"],
        "post_p95_ms": posted["p95_ms"],
        "post_p99_ms": posted["p99_ms"],
    }


def _queue_drained(env: Env, timeout: float) -> bool:
    from rq import Queue

    queue = Queue("eventmart-ingest", connection=redis.Redis.from_url(env.redis_url))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue.count == 0 and queue.started_job_registry.count == 0:
            return True
        time.sleep(0.2)
    return False


def ensure_base(env: Env, data: Dataset) -> None:
    """raw.events holds the generated events (the ingest or loader stage may have put them)."""
    from loaders.writer import write_events

    if count_raw(env) >= data.count:
        return
    received_at = datetime.now(UTC)
    with psycopg.connect(env.database_url) as conn:
        for events in data.chunks(50_000):
            write_events(conn, as_rows(events, received_at))


# Bad rows for the loader stage (issue 17's kinds, in turn), and how often they occur.
# name -> one bad row in every N lines. Clean last: raw.events then holds the events for the
# stages after this one.
LOADER_FILES = {"bad_10pct": 10, "bad_0_1pct": 1000, "clean": 0}
IMPOSSIBLE_DAY = "2026-02-30"


def bad_line(kind: int, event: dict[str, Any]) -> bytes:
    """A row the loader must reject: missing event_id, null user_id, 33 KB of properties, a
    truncated JSON line, a date-only timestamp, an impossible date (`kind` picks one)."""
    event = dict(event)
    if kind == 0:
        del event["event_id"]
    elif kind == 1:
        event["user_id"] = None
    elif kind == 2:
        event["properties"] = {"blob": "x" * 33 * 1024}
    elif kind == 3:
        return orjson.dumps(event)[:60] + b"\n"
    elif kind == 4:
        event["occurred_at"] = event["occurred_at"][:10]
    else:
        event["occurred_at"] = IMPOSSIBLE_DAY + event["occurred_at"][10:]
    return orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)


def write_dirty(data: Dataset, every: int) -> tuple[Path, int]:
    """A copy of the dataset with one line in `every` replaced by a bad row; (path, bad rows).

    At 0.1 % the six kinds of `bad_line` take turns; at 10 % every bad row has an impossible
    date (a tenth of the rows with 33 KB of properties would be a different file size).
    """
    path = data.path.with_name(f"{data.path.stem}-bad-{every}.jsonl")
    bad = 0
    with open(path, "wb") as out:
        for number, line in enumerate(data.lines()):
            if number % every == every // 2:
                out.write(bad_line(bad % 6 if every >= 100 else 5, orjson.loads(line)))
                bad += 1
            else:
                out.write(line)
    return path, bad


def tree_peak_rss(child: subprocess.Popen[bytes], every: float = 0.02) -> int:
    """The highest sum of RSS over `child` and all its descendants, sampled until it exits."""
    root = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        total = 0
        with suppress(psutil.Error):
            for proc in [root, *root.children(recursive=True)]:
                with suppress(psutil.Error):
                    total += proc.memory_info().rss
        peak = max(peak, total)
        time.sleep(every)
    return peak


def writer_seconds(env: Env, path: Path, chunk: int) -> tuple[int, float]:
    """(rows, seconds) of the raw writer alone on the file's valid rows, in the loader's chunks
    (validated beforehand, not timed), into an empty raw.events."""
    from core.events import EventError, validate_event
    from loaders.writer import write_events

    received_at = datetime.now(UTC)
    rows = 0
    seconds = 0.0
    with env.connect() as conn:
        conn.execute("truncate raw.events")
        with open(path, "rb") as lines:
            while batch := list(islice(lines, chunk)):
                valid = []
                for line in batch:
                    with suppress(EventError, orjson.JSONDecodeError):
                        event = validate_event(orjson.loads(line), received_at, 86400)
                        valid.append((*event, received_at))
                start = time.perf_counter()
                write_events(conn, valid)
                seconds += time.perf_counter() - start
                rows += len(valid)
    return rows, seconds


def stage_loader(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """`eventmart load` on the JSONL file of the events and on two dirty copies (0.1 % and 10 %
    bad rows), each into an empty raw.events, beside the raw writer on the same valid rows."""
    from loaders.history import DEFAULT_CHUNK_SIZE

    out: dict[str, Any] = {"rows": data.count, "file_mb": data.path.stat().st_size / 2**20}
    for name, every in LOADER_FILES.items():
        path, bad = write_dirty(data, every) if every else (data.path, 0)
        rejects = path.with_suffix(".rejects.jsonl")
        rejects.unlink(missing_ok=True)
        with env.connect() as conn:
            conn.execute("truncate raw.events")
        start = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        child = spawn(env, "load", str(path), "--rejects", str(rejects))
        peak = tree_peak_rss(child)
        seconds = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # and any child it reaped
        env.children.remove(child)
        if child.returncode != 0:
            log = ".eventmart/bench-load.log"
            raise StageFailed(f"eventmart load exited {child.returncode}; see {log}")
        loaded = count_raw(env)
        rejected = len(rejects.read_bytes().splitlines()) if rejects.exists() else 0
        if (loaded, rejected) != (data.count - bad, bad):
            raise StageFailed(
                f"{name}: loaded {loaded:,} and rejected {rejected:,}; "
                f"expected {data.count - bad:,} and {bad:,}"
            )
        written, writer_s = writer_seconds(env, path, DEFAULT_CHUNK_SIZE)
        prefix = "" if name == "clean" else f"{name}_"
        out |= {
            f"{prefix}loaded": loaded,
            f"{prefix}rejected": rejected,
            f"{prefix}seconds": seconds,
            f"{prefix}rows_per_s": data.count / seconds,
            f"{prefix}writer_rows_per_s": written / writer_s,
            f"{prefix}over_writer": writer_s / seconds,
            f"{prefix}tree_max_rss_mb": peak / 2**20,
            # CPU of the loader's process tree: far less sensitive to a shared machine
            f"{prefix}tree_cpu_s": (cpu_after.ru_utime - cpu_before.ru_utime)
            + (cpu_after.ru_stime - cpu_before.ru_stime),
        }
        if every:
            path.unlink()
        rejects.unlink(missing_ok=True)
    return out


def _refresh(env: Env, *, full: bool, zones: list[str] | None = None) -> float:
    from core.settings import Settings
    from jobs.refresh import refresh_marts

    settings = Settings(
        database_url=env.database_url,
        redis_url=env.redis_url,
        timezones=zones or BENCH_ZONES,
        breakdown_properties=BREAKDOWN_PROPERTIES.split(","),
    )
    start = time.perf_counter()
    result = refresh_marts(settings, full_refresh=full)
    seconds = time.perf_counter() - start
    if not result.success:  # a failed build is not a fast one
        kind = "full refresh" if full else "refresh"
        raise StageFailed(f"{kind} failed: {'; '.join(result.errors) or 'no error text'}")
    return seconds


def stage_refresh(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """Full build on the base with UTC only, then with the benchmark's zones (what a zone
    costs, per model); incremental after 1 % new events (a fifth late); nothing new."""
    from loaders.writer import write_events

    ensure_base(env, data)
    full_utc = _refresh(env, full=True, zones=["UTC"])
    utc_models = model_seconds(env)
    full = _refresh(env, full=True)
    zones_models = model_seconds(env)
    full_model_figures = {
        f"full_model_{name}_{label}_s": models.get(name)
        for name in sorted(zones_models)
        for label, models in (("utc", utc_models), ("zones", zones_models))
    }
    noop = _refresh(env, full=False)
    new = max(1, data.count // 100)
    fresh = generate_events(new, args.seed + 1, days=1, prefix="inc")
    late = generate_events(new // 5, args.seed + 2, days=7, prefix="late")
    extra = fresh[: new - len(late)] + late
    with psycopg.connect(env.database_url) as conn:
        write_events(conn, as_rows(extra, datetime.now(UTC)))
    incremental = _refresh(env, full=False)
    models = model_seconds(env)
    return {
        "base_events": data.count,
        "new_events": len(extra),
        "late_events": len(late),
        "zones": ",".join(BENCH_ZONES),
        "full_utc_only_s": full_utc,
        "full_s": full,
        **full_model_figures,
        "incremental_s": incremental,
        "nothing_new_s": noop,
        "incremental_dbt_s": sum(models.values()),
        "incremental_slowest_models": ", ".join(
            f"{name} {sec:.2f}s" for name, sec in sorted(models.items(), key=lambda m: -m[1])[:3]
        ),
    }


def model_seconds(env: Env) -> dict[str, float]:
    """Seconds per model of the last dbt run on the scratch database (dbt's run_results)."""
    from core.settings import Settings
    from jobs.refresh import dbt_target_dir

    settings = Settings(database_url=env.database_url, redis_url=env.redis_url)
    target = dbt_target_dir(settings)
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in results
        if r["unique_id"].startswith("model.")
    }


WRK_SCRIPT = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.duration))
end
"""


BASE_QUERIES = {  # endpoint -> its request, `{range}` = from=...&to=...[&tz=...]
    "dau": "/stats/dau?{range}",
    "top-events": "/stats/top-events?{range}&limit=10",
    "retention-day": "/stats/retention?{range}&period=day&periods=7",
    "retention-week": "/stats/retention?{range}&period=week&periods=4",
    # breakdown by a property (docs/api.md#trends): path has 5 values, so no `$other` read
    "trends": "/stats/trends?{range}&event_type=page_view&breakdown=path",
}
FILTER_QUERIES = {  # rolling windows and event-type filters (docs/api.md#active-users)
    "active-users-7": "/stats/active-users?{range}&window=7",
    "active-users-30": "/stats/active-users?{range}&window=30",
    "active-users-7-purchase": "/stats/active-users?{range}&window=7&event_type=purchase",
    "dau-purchase": "/stats/dau?{range}&event_type=purchase",
    "dau-purchase-signup": "/stats/dau?{range}&event_type=purchase&event_type=signup",
    "retention-signup-purchase": (
        "/stats/retention?{range}&period=day&periods=7&start_event=signup&return_event=purchase"
    ),
}
READ_QUERIES = {**BASE_QUERIES, **FILTER_QUERIES}
FILTER_ENDPOINTS = list(FILTER_QUERIES)  # read in the default zone, cached and cold


def read_paths(endpoint: str, count: int, seed: int, tz: str | None = None) -> list[str]:
    """Random realistic ranges (7/30/90 days) inside the data's last 90 days (local dates of
    `tz`, which the paths then name; None: the default zone)."""
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    paths = []
    for _ in range(count):
        days = rng.choice([7, 30, 90])
        end = today - timedelta(days=rng.randrange(0, 90 - days + 1))
        start = end - timedelta(days=days - 1)
        query = f"from={start}&to={end}" + ("" if tz is None else f"&tz={tz}")
        paths.append(READ_QUERIES[endpoint].format(range=query))
    return paths


def wrk_run(
    url: str, paths: list[str], connections: int, seconds: int, timeout_s: int = 2
) -> dict[str, float]:
    folder = ROOT / ".eventmart"
    folder.mkdir(exist_ok=True)
    (folder / "bench-paths.txt").write_text("\n".join(paths) + "\n")
    (folder / "bench.lua").write_text(WRK_SCRIPT % (folder / "bench-paths.txt", READ_KEY))
    threads = max(1, min(2, connections))
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout_s}s",
            "-s",
            str(folder / "bench.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, errors, p50, p95, p99, duration_us = (int(v) for v in line.split()[1:])
    return {
        "req_per_s": requests / (duration_us / 1e6),
        "errors": errors,
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
    }


ZONED_READS = BENCH_ZONES[1]  # the reads stage's second zone


def stage_reads(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """Closed-loop GETs per endpoint (wrk), then all endpoints mixed at several concurrencies,
    with the API's answer cache as configured by default; then each endpoint again with the
    cache off (`cold_*`: every request reads the marts, as the first one after a refresh).
    Each endpoint is also read for the second zone (`*_kyiv_*`, `tz=Europe/Kyiv`)."""
    ensure_base(env, data)
    _refresh(env, full=False)
    seconds = 3 if args.quick else 10
    out: dict[str, Any] = {"seconds_per_run": seconds, "api_workers": args.api_workers}
    endpoints = ["dau", "top-events", "retention-day", "retention-week"]
    measured = [*endpoints, "trends"]  # each alone; the mix stays the four compared over time
    url = start_api(env, args.api_workers, port=args.port_base + 1, EVENTMART_READ_KEYS=READ_KEY)
    for endpoint in measured + FILTER_ENDPOINTS:  # the mix below: the first four only
        figures = wrk_run(url, read_paths(endpoint, 500, args.seed), 4, seconds)
        for key, value in figures.items():
            out[f"{endpoint}_{key}"] = value
    for endpoint in measured:
        figures = wrk_run(url, read_paths(endpoint, 500, args.seed, ZONED_READS), 4, seconds)
        for key, value in figures.items():
            out[f"{endpoint}_kyiv_{key}"] = value
    mixed = [p for e in endpoints for p in read_paths(e, 250, args.seed + 7)]
    random.Random(args.seed).shuffle(mixed)
    for connections in (1, 8, 32):
        figures = wrk_run(url, mixed, connections, seconds)
        for key, value in figures.items():
            out[f"mixed_c{connections}_{key}"] = value
    sample = httpx2.get(url + mixed[0], headers=AUTH, timeout=10).content
    stop(env.children.pop())
    ceiling = serve_peer(
        env, "tests.peers.ceiling:create_ceiling_app", args.api_workers, args.port_base + 4, sample
    )
    figures = wrk_run(ceiling, mixed, 32, seconds)
    out["ceiling_c32_req_per_s"] = figures["req_per_s"]
    out["ceiling_c32_p95_ms"] = figures["p95_ms"]
    out["ceiling_body_bytes"] = len(sample)
    stop(env.children.pop())
    cold = start_api(
        env,
        args.api_workers,
        port=args.port_base + 3,
        EVENTMART_READ_CACHE_SECONDS="0",
        EVENTMART_READ_CACHE_ENTRIES="0",
        EVENTMART_READ_KEYS=READ_KEY,
    )
    for endpoint in measured:
        for tz, label in ((None, ""), (ZONED_READS, "_kyiv")):
            figures = wrk_run(cold, read_paths(endpoint, 500, args.seed, tz), 4, seconds)
            for key in ("req_per_s", "p50_ms", "p95_ms", "errors"):
                out[f"cold_{endpoint}{label}_{key}"] = figures[key]
    for endpoint in FILTER_ENDPOINTS:
        figures = wrk_run(cold, read_paths(endpoint, 500, args.seed), 4, seconds)
        for key in ("req_per_s", "p50_ms", "p95_ms", "errors"):
            out[f"cold_{endpoint}_{key}"] = figures[key]
    stop(env.children.pop())
    return out


def serve_peer(env: Env, factory: str, workers: int, port: int, body: bytes = b"") -> str:
    """A reference app from tests/peers on the same uvicorn settings as `eventmart serve`."""
    body_file = ROOT / ".eventmart" / "bench-ceiling-body.json"
    body_file.write_bytes(body)
    log_dir = ROOT / ".eventmart"
    with open(log_dir / "bench-peer.log", "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.peers", factory, str(port), str(workers)],
            env=env.environ(EVENTMART_READ_KEYS=READ_KEY, EVENTMART_CEILING_BODY=str(body_file)),
            stdout=log,
            stderr=log,
        )
    env.children.append(child)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with suppress(httpx2.HTTPError):
            httpx2.get(f"{url}/health", timeout=2)
            return url
        time.sleep(0.3)
    raise RuntimeError(f"{factory} did not start; see .eventmart/bench-peer.log")


def stage_peers(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """The seed's design (aggregates over raw.events per request, through the same app, with
    its occurred_at index) against our cached and cold reads; and PostgreSQL's REFRESH
    MATERIALIZED VIEW of the same aggregates against our incremental refresh, both after the
    same 1 % of new events."""
    from loaders.writer import write_events
    from tests.peers.matviews import create_matviews, drop_matviews, refresh_matviews

    ensure_base(env, data)
    _refresh(env, full=False)
    seconds = 3 if args.quick else 10
    out: dict[str, Any] = {}
    with env.connect() as conn:
        started = time.perf_counter()
        conn.execute("create index if not exists peer_occurred_at_idx on raw.events (occurred_at)")
        conn.execute("analyze raw.events")
        out["seed_index_build_s"] = time.perf_counter() - started
    seed = serve_peer(env, "tests.peers.seed_design:create_seed_app", args.api_workers, 8770)
    for endpoint in ("dau", "top-events", "retention-day", "retention-week"):
        paths = [f"/seed{p}" for p in read_paths(endpoint, 50, args.seed)]
        # a request of the seed's design can take seconds at 10M: a longer run, or no sample
        figures = wrk_run(seed, paths, 4, 3 * seconds, timeout_s=600)
        for key in ("req_per_s", "p50_ms", "p95_ms", "errors"):
            out[f"seed_{endpoint}_{key}"] = figures[key]
    stop(env.children.pop())
    with env.connect() as conn:
        conn.execute("drop index if exists raw.peer_occurred_at_idx")
        started = time.perf_counter()
        create_matviews(conn)
        out["matview_build_s"] = time.perf_counter() - started
        new = max(1, data.count // 100)
        fresh = generate_events(new, args.seed + 3, days=1, prefix="peer")
        late = generate_events(new // 5, args.seed + 4, days=7, prefix="peerlate")
        write_events(conn, as_rows(fresh[: new - len(late)] + late, datetime.now(UTC)))
        out["new_events"] = new
        out["ours_incremental_s"] = _refresh(env, full=False)
        views = refresh_matviews(conn)
        out["matview_refresh_s"] = sum(views.values())
        out["matview_slowest"] = max(views, key=lambda v: views[v])
        drop_matviews(conn)
    return out


def stage_freshness(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """Seconds from a 202 to the event being counted in /stats/dau, with the scheduler running."""
    ensure_base(env, data)
    url = start_api(env, 1, port=8767)
    interval = args.refresh_interval
    workers = [spawn(env, "worker")]
    scheduler = spawn(env, "scheduler", EVENTMART_REFRESH_INTERVAL_SECONDS=str(interval))
    samples = []
    today = datetime.now(UTC).date().isoformat()
    dau = f"{url}/stats/dau?from={today}&to={today}"
    for n in range(2 if args.quick else 5):
        before = httpx2.get(dau, timeout=10).json()["data"][0]["active_users"]
        event = {
            "event_id": f"fresh-{uuid.uuid4().hex}",
            "user_id": f"fresh-user-{n}-{uuid.uuid4().hex[:6]}",
            "event_type": "page_view",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        start = time.perf_counter()
        assert httpx2.post(f"{url}/events", json=[event], timeout=10).status_code == 202
        while time.perf_counter() - start < interval * 3 + 120:
            if httpx2.get(dau, timeout=10).json()["data"][0]["active_users"] > before:
                break
            time.sleep(0.25)
        samples.append(time.perf_counter() - start)
        time.sleep(random.Random(n).uniform(0, interval / 2))
    for child in [*workers, scheduler]:
        stop(child)
    return {
        "refresh_interval_s": interval,
        "samples": len(samples),
        "median_s": statistics.median(samples),
        "max_s": max(samples),
        "target_s": interval + 10,
    }


DRAWN_MARK = "window.__eventmartDrawn"  # set by the page once every chart is drawn


def stage_dashboard(env: Env, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """Navigation start to every chart drawn on the dashboard at `/` (the page's default
    range, with a read key), in headless Chromium; the first load fills the browser cache and
    the API's answer cache, the next ones are timed warm (median and max)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.chromium import launch_chromium

    ensure_base(env, data)
    _refresh(env, full=False)
    url = start_api(env, args.api_workers, port=8769, EVENTMART_READ_KEYS=READ_KEY)
    samples: list[float] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        # the key as the page keeps it once entered: reads run with auth on, as in `reads`
        page.add_init_script(f"sessionStorage.setItem('eventmart.readKey', {json.dumps(READ_KEY)})")
        for _ in range(1 + (5 if args.quick else 10)):
            page.goto(f"{url}/")
            page.wait_for_function(f"{DRAWN_MARK} !== undefined", timeout=120_000)
            samples.append(float(page.evaluate(DRAWN_MARK)))
        version = browser.version
        browser.close()
    stop(env.children.pop())
    warm = samples[1:]
    return {
        "chromium": version,
        "loads": len(warm),
        "cold_ms": samples[0],
        "median_ms": statistics.median(warm),
        "max_ms": max(warm),
        "target_ms": 1000,
    }


STAGE_FUNCS: dict[str, Callable[..., dict[str, Any]]] = {
    "limit": stage_limit,
    "ingest": stage_ingest,
    "sdk_ingest": stage_sdk_ingest,
    "loader": stage_loader,
    "refresh": stage_refresh,
    "reads": stage_reads,
    "peers": stage_peers,
    "freshness": stage_freshness,
    "dashboard": stage_dashboard,
}


# ---------------------------------------------------------------- report


def settle(env: Env) -> None:
    """Start each stage from a clean slate: flush the previous stage's dirty pages now rather
    than in a checkpoint during the next one (needs superuser or pg_checkpoint; else skipped)."""
    with suppress(psycopg.Error), env.connect() as conn:
        conn.execute("checkpoint")


def machine_facts(env: Env) -> dict[str, Any]:
    with env.connect() as conn:
        pg = conn.execute("show server_version").fetchone()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "postgresql": pg[0] if pg else None,
        "git_commit": commit,
        "note": "load generator, API, workers and PostgreSQL share these cores",
    }


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    limit = results.get("limit", {}).get("writer_rows_per_s")
    out: dict[str, float | None] = {
        "ingest_landed_over_limit": None,
        "loader_over_limit": None,
        "loader_over_bare_copy": None,
        "incremental_over_full_refresh": None,
        "sdk_ingest_over_native": None,
    }
    if "ingest" in results and "sdk_ingest" in results:
        native = results["ingest"]["landed_per_s"]
        out["sdk_ingest_over_native"] = results["sdk_ingest"]["landed_per_s"] / native
    if limit and "ingest" in results:
        out["ingest_landed_over_limit"] = results["ingest"]["landed_per_s"] / limit
    if limit and results.get("loader", {}).get("rows_per_s"):
        out["loader_over_limit"] = results["loader"]["rows_per_s"] / limit
        bare = max(
            results["limit"]["bare_copy_text_rows_per_s"],
            results["limit"]["bare_copy_binary_rows_per_s"],
        )
        out["loader_over_bare_copy"] = results["loader"]["rows_per_s"] / bare
    refresh = results.get("refresh", {})
    if refresh.get("full_s") and refresh.get("incremental_s") is not None:
        out["incremental_over_full_refresh"] = refresh["incremental_s"] / refresh["full_s"]
    reads, peers = results.get("reads", {}), results.get("peers", {})
    reads = reads if "ceiling_c32_req_per_s" in reads else {}  # absent when the stage failed
    peers = peers if "matview_refresh_s" in peers else {}
    if reads:
        out["reads_over_ceiling"] = reads["mixed_c32_req_per_s"] / reads["ceiling_c32_req_per_s"]
    if reads and peers:
        for endpoint in ("dau", "top-events", "retention-day", "retention-week"):
            ours, theirs = reads[f"{endpoint}_req_per_s"], peers[f"seed_{endpoint}_req_per_s"]
            out[f"{endpoint}_req_per_s_ours_over_seed"] = ours / theirs if theirs else None
            seed_p95 = peers[f"seed_{endpoint}_p95_ms"]  # 0 when no request finished
            cold = reads[f"cold_{endpoint}_p95_ms"] / seed_p95 if seed_p95 else None
            out[f"{endpoint}_cold_p95_ours_over_seed"] = cold
    if peers:
        out["incremental_over_matview_refresh"] = (
            peers["ours_incremental_s"] / peers["matview_refresh_s"]
        )
    return out


def render(report: dict[str, Any]) -> str:
    lines = [f"# eventmart benchmark {report['started_at']}", "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in report["machine"].items()]
    for stage, figures in report["results"].items():
        lines += ["", f"## {stage}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in figures.items()]
    lines += ["", "## Ratios", "", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in report["ratios"].items()]
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_table(report: dict[str, Any]) -> None:
    table = Table(title=f"eventmart benchmark ({report['events']:,} events)")
    table.add_column("stage")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for stage, figures in report["results"].items():
        for key, value in figures.items():
            table.add_row(stage, key, _fmt(value))
    for key, value in report["ratios"].items():
        table.add_row("ratio", key, _fmt(value))
    Console().print(table)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events per stage (default 1M)"
    )
    parser.add_argument("--quick", action="store_true", help="100k events: the CI smoke run")
    parser.add_argument("--only", default=",".join(STAGES), help=f"comma list of {STAGES}")
    parser.add_argument("--batch", type=int, default=500, help="events per POST")
    parser.add_argument("--producers", type=int, default=4, help="load-generator processes")
    parser.add_argument("--api-workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--rq-workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument("--redis-db", type=int, default=14, help="scratch Redis DB number")
    parser.add_argument(
        "--port-base", type=int, default=8765, help="the reads stage's APIs listen from here +1"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--writer-chunk", type=int, default=10_000, help="rows per writer call")
    parser.add_argument("--refresh-interval", type=int, default=15, help="scheduler seconds")
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 unless every stage wrote every figure (CI)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.events = 100_000
    args.stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}; choose from {STAGES}")
    if "reads" in args.stages and shutil.which("wrk") is None:
        parser.error(
            "the reads stage needs wrk (Debian: apt-get install wrk); or leave it out with --only"
        )
    if "dashboard" in args.stages:
        from tests.browser.chromium import chromium_path

        if chromium_path() is None:
            parser.error(
                "the dashboard stage needs Chromium (Debian: apt-get install chromium "
                "chromium-driver); or leave it out with --only"
            )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # In-process refreshes log through structlog: keep the terminal for the results.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    started = datetime.now(UTC)
    console.print(f"generating {args.events:,} events (seed {args.seed}) ...")
    data = write_dataset(ROOT / ".eventmart" / "bench-events.jsonl", args.events, args.seed)
    results: dict[str, Any] = {}
    with scratch_env(args.redis_db) as env:
        machine = machine_facts(env)
        for stage in args.stages:
            console.print(f"[bold]stage {stage}[/bold] ...")
            settle(env)
            t0 = time.perf_counter()
            try:
                results[stage] = STAGE_FUNCS[stage](env, data, args)
            except StageFailed as exc:
                console.print(f"[red]stage {stage} failed: {exc}[/red]")
                results[stage] = {"failed": str(exc)}
            results[stage]["stage_seconds"] = time.perf_counter() - t0
            # what has been measured so far survives a later stage's crash
            args.output.mkdir(parents=True, exist_ok=True)
            partial = args.output / f"{started.strftime('%Y%m%dT%H%M%SZ')}.partial.json"
            partial.write_text(json.dumps(results, indent=2, default=str))
    report = {
        "started_at": started.isoformat(),
        "events": args.events,
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine,
        "results": results,
        "ratios": ratios(results),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    (args.output / f"{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    (args.output / f"{stamp}.md").write_text(render(report))
    print_table(report)
    console.print(f"written: {args.output / stamp}.json and .md")
    failed = [stage for stage, figures in results.items() if "failed" in figures]
    if failed:
        console.print(f"[red]failed stages: {', '.join(failed)}[/red]")
        return 1
    if args.check:
        missing = missing_figures(report, args.stages)
        if missing:
            console.print(f"[red]missing figures: {', '.join(missing)}[/red]")
            return 1
        console.print("check: every stage wrote every figure")
    return 0


def missing_figures(report: dict[str, Any], stages: list[str]) -> list[str]:
    """Stages or figures that are absent or null (CI checks completeness, never speed)."""
    missing = [s for s in stages if not report["results"].get(s)]
    missing += [f"{s} (failed)" for s, figures in report["results"].items() if "failed" in figures]
    missing += [
        f"{stage}.{key}"
        for stage, figures in report["results"].items()
        for key, value in figures.items()
        if value is None
    ]
    if set(STAGES) <= set(stages):
        missing += [f"ratio.{k}" for k, v in report["ratios"].items() if v is None]
    return missing


if __name__ == "__main__":
    sys.exit(main())
