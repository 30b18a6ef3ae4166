"""The history loader against its limits, on the same rows, in one run.

    python benchmarks/loader_vs_copy.py [--rows 1000000] [--repeat 1]

With --repeat N > 1 it also prints the best of each measurement over the N rounds (on a
shared machine, other work only ever slows a round down).

Uses DATABASE_URL (a scratch database is created and dropped). For each repeat, on the same
generated events, into an empty table each time:
  1. bare COPY: rows (already validated, in memory) COPYed into an empty raw.events-shaped
     table (`like raw.events including all`): in text format, as benchmark.py's limit
     stage does, and in binary format; ratios are to the faster of the two;
  2. raw writer: the same rows through `write_events` in 20,000-row chunks (the loader's
     chunk size) into an empty raw.events: the loader's own upper bound;
  3. loader: `python -m loaders FILE.jsonl` in a subprocess (its wall time, start-up
     included, and its own rows/s), with the child's peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.events import validate_event  # noqa: E402
from loaders.migrate import migrate  # noqa: E402
from loaders.writer import COPY_BATCH, write_events  # noqa: E402


def generate(path: Path, rows: int) -> None:
    with open(path, "wb") as out:
        for i in range(rows):
            out.write(
                b'{"event_id":"evt-%09d","user_id":"user-%d","event_type":"%s",'
                b'"occurred_at":"2024-%02d-%02dT%02d:%02d:%02d.%06dZ",'
                b'"properties":{"path":"/p/%d","n":%d}}\n'
                % (
                    i,
                    (i * 7919) % 50_000,
                    (b"page_view", b"click", b"signup", b"purchase")[i % 4],
                    1 + i % 12,
                    1 + i % 28,
                    i % 24,
                    i % 60,
                    (i * 7) % 60,
                    i % 1_000_000,
                    i % 20,
                    i,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    server = os.environ["DATABASE_URL"]
    name = f"eventmart_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_conninfo(server, dbname=name)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "events.jsonl"
            generate(path, args.rows)
            now = datetime.now(UTC)
            rows = []
            with open(path, "rb") as lines:
                for line in lines:
                    ev = validate_event(orjson.loads(line), now, 86400)
                    rows.append((*ev, now))
            with psycopg.connect(url) as conn:
                migrate(conn)
            runs = [run_once(url, path, rows) for _ in range(args.repeat)]
            if len(runs) > 1:  # other work on the machine only ever slows a run down
                best = {k: max(r[k] for r in runs) for k in runs[0]}
                sys.stdout.write(
                    f"best of {len(runs)} (rows/s): bare COPY {best['bare']:,.0f}, "
                    f"write_events {best['writer']:,.0f}, loader {best['loader']:,.0f} "
                    f"= {best['loader'] / best['writer']:.0%} of write_events, "
                    f"{best['loader'] / best['bare']:.0%} of bare COPY\n"
                )
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def run_once(url: str, path: Path, rows: list) -> dict[str, float]:  # type: ignore[type-arg]
    n = len(rows)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_copy")
        conn.execute("create table bench_copy (like raw.events including all)")
        conn.execute("checkpoint")
        start = time.perf_counter()
        statement = COPY_BATCH.replace("pg_temp.events_batch", "bench_copy")
        with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        bare = time.perf_counter() - start
        conn.execute("drop table bench_copy")
        # The same in binary format (jsonb's binary form: a version byte, then the text).
        binary_rows = [(*r[:4], b"\x01" + r[4].encode(), r[5]) for r in rows]
        conn.execute("create table bench_copy (like raw.events including all)")
        conn.execute("checkpoint")
        start = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"{statement} (format binary)") as copy,
        ):
            copy.set_types(["text", "text", "text", "timestamptz", "bytea", "timestamptz"])
            for row in binary_rows:
                copy.write_row(row)
        bare_binary = time.perf_counter() - start
        del binary_rows
        conn.execute("drop table bench_copy")
        conn.execute("truncate raw.events")
        conn.execute("checkpoint")
        start = time.perf_counter()
        for i in range(0, n, 20_000):
            write_events(conn, rows[i : i + 20_000])
        writer = time.perf_counter() - start
        conn.execute("truncate raw.events")
        conn.execute("checkpoint")
    env = {**os.environ, "DATABASE_URL": url}
    start = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "loaders", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    peaks: dict[int, int] = {}
    watcher = threading.Thread(target=watch_peak_rss, args=(child, peaks), daemon=True)
    watcher.start()
    assert child.stdout is not None
    with child.stdout:
        output = child.stdout.read().decode()
    child.wait()
    wall = time.perf_counter() - start
    watcher.join()
    assert child.returncode == 0, output
    match = re.search(r"\(([\d,]+) rows/s\)", output)
    own = float(match.group(1).replace(",", "")) if match else float("nan")
    of_writer, of_bare = n / writer, max(n / bare, n / bare_binary)  # the faster COPY
    sys.stdout.write(
        f"rows {n:,}\n"
        f"  bare COPY, text format      {n / bare:>10,.0f} rows/s\n"
        f"  bare COPY, binary format    {n / bare_binary:>10,.0f} rows/s\n"
        f"  write_events (prepared)     {n / writer:>10,.0f} rows/s\n"
        f"  loader, own rate            {own:>10,.0f} rows/s  "
        f"= {own / of_writer:.0%} of write_events, {own / of_bare:.0%} of bare COPY\n"
        f"  loader, wall incl. start-up {n / wall:>10,.0f} rows/s  "
        f"= {n / wall / of_writer:.0%} of write_events, {n / wall / of_bare:.0%} of bare COPY\n"
        f"  loader peak RSS (VmHWM)     "
        + " + ".join(f"{kb / 1024:,.0f}" for kb in peaks.values())
        + " MB (loader + reader process)\n"
    )
    sys.stdout.flush()
    return {"bare": of_bare, "writer": of_writer, "loader": own}


def watch_peak_rss(child: subprocess.Popen[bytes], peaks: dict[int, int]) -> None:
    """VmHWM of the loader and its reader (not ru_maxrss: Linux keeps ours across exec)."""
    while child.poll() is None:
        pids = [child.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text()
            pids += [int(p) for p in children.split()]
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, StopIteration):
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
                hwm = next(line for line in status if line.startswith("VmHWM:"))
                peaks[pid] = max(peaks.get(pid, 0), int(hwm.split()[1]))
        time.sleep(0.1)


if __name__ == "__main__":
    main()
