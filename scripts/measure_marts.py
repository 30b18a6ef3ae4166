"""Measure mart refreshes and /stats latency on a scratch database (not a test; not CI).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/eventmart_bench \\
        .venv/bin/python scripts/measure_marts.py --events 1000000

It EMPTIES raw.events and the marts of that database (the name must contain "bench"), loads
`--events` events over 90 days through the raw writer, then times: a full rebuild, refreshes
with nothing new, a refresh after `--new` recent events, and each /stats endpoint through a
real `eventmart serve` process (sequential requests; p50/p95 of the client-side latency).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

import httpx
import psycopg

from core.db import libpq_params
from core.settings import get_settings
from jobs.refresh import dbt_project_dir, refresh_marts
from loaders.writer import write_events


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def events(count: int, start_id: int, days: int, end: datetime, seed: int, users: int) -> list:
    rng = random.Random(seed)
    types = [f"event_{i:02d}" for i in range(20)]
    weights = [1 / (i + 1) for i in range(20)]
    now = datetime.now(UTC)
    picked = rng.choices(types, weights, k=count)
    # a long tail of users: the most active ~1000x the least (Zipf-like, exponent 0.7)
    who = rng.choices(
        range(users),
        cum_weights=list(accumulate(1 / (i + 1) ** 0.7 for i in range(users))),
        k=count,
    )
    rows = []
    for i in range(count):
        user = f"user-{who[i]:06d}"
        when = end - timedelta(seconds=rng.randrange(days * 86400))
        rows.append((f"b-{start_id + i:09d}", user, picked[i], when, "{}", now))
    return rows


def load(conn: psycopg.Connection, rows: list) -> None:
    for start in range(0, len(rows), 50_000):
        write_events(conn, rows[start : start + 50_000])


def timed_refresh(label: str, *, full_refresh: bool = False) -> float:
    began = time.perf_counter()
    result = refresh_marts(get_settings(), full_refresh=full_refresh)
    wall = time.perf_counter() - began
    assert result.success, result.errors
    note = "  (nothing new: dbt not started)" if result.skipped else ""
    say(f"{label:<44} {wall:7.2f} s{note}")
    if not result.skipped:
        results = json.loads((run_results_path()).read_text())["results"]
        slowest = sorted(results, key=lambda r: -r["execution_time"])[:4]
        say(
            "    "
            + ", ".join(
                f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.2f}" for r in slowest
            )
        )
    return wall


def run_results_path() -> Path:
    dbname = libpq_params(get_settings().database_url or "")["dbname"]
    return dbt_project_dir() / "target" / dbname / "run_results.json"


def latency(url: str, paths: list[str], rounds: int) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        for path in paths:
            for _ in range(10):
                client.get(path).raise_for_status()  # warm up (pool, prepared statements)
            samples = []
            for _ in range(rounds):
                began = time.perf_counter()
                client.get(path).raise_for_status()
                samples.append((time.perf_counter() - began) * 1000)
            samples.sort()
            p50 = statistics.median(samples)
            p95 = samples[int(len(samples) * 0.95) - 1]
            say(f"GET {path:<52} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    assert settings.database_url and "bench" in settings.database_url, "use a *bench* database"
    conn = psycopg.connect(settings.database_url, autocommit=True)
    end = datetime.now(UTC) - timedelta(hours=1)
    if not args.skip_load:
        for schema in ("staging", "intermediate", "marts"):
            conn.execute(f"drop schema if exists {schema} cascade")
        conn.execute("truncate raw.events")
        began = time.monotonic()
        load(conn, events(args.events, 0, 90, end, 1, args.users))
        conn.execute("vacuum analyze raw.events")
        say(f"loaded {args.events:,} events in {time.monotonic() - began:.1f} s")
        timed_refresh("first build (no marts yet)")
    timed_refresh(f"(c) full rebuild of {args.events:,} events", full_refresh=True)
    timed_refresh("(a) nothing new")
    timed_refresh("(a) nothing new, again")
    recent = events(args.new, 500_000_000 + random.randrange(10**8), 1, end, 2, args.users)
    load(conn, recent)
    timed_refresh(f"(b) {args.new:,} new events of the last day")
    late = events(args.new, 700_000_000 + random.randrange(10**8), 90, end, 3, args.users)
    load(conn, late)
    timed_refresh(f"(b') {args.new:,} new events spread over 90 days")

    port = 8765
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        latency(
            url,
            [
                "/stats/dau",
                "/stats/dau?from=2026-01-01&to=2026-12-31",
                "/stats/top-events",
                "/stats/top-events?limit=1000&from=2025-01-01&to=2026-12-31",
                "/stats/retention",
                "/stats/retention?period=week&periods=12",
                "/stats/retention?periods=90&from=2025-01-01&to=2026-12-31",
                "/stats/dau?format=csv",
            ],
            args.rounds,
        )
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
