"""`eventmart load` / `python -m loaders` on real PostgreSQL: formats, rejects, re-runs, kills."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from loaders.history import LoadSummary, load_files
from tests.bad_events import BAD_EVENTS, with_
from tests.conftest import REPO_ROOT, count_events

SUMMARY = re.compile(
    r"read (?P<read>[\d,]+)  inserted (?P<inserted>[\d,]+)  duplicates (?P<duplicates>[\d,]+)"
    r"  rejected (?P<rejected>[\d,]+)"
)


def event(i: int, **changes: Any) -> dict[str, Any]:
    return (
        with_(
            event_id=f"h-{i:07d}",
            user_id=f"u-{i % 13}",
            event_type=("page_view", "click", "signup")[i % 3],
            occurred_at=f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07.123456Z",
            properties={"i": i, "path": f"/p/{i % 5}"},
        )
        | changes
    )


def write_jsonl(path: Path, events: list[Any], *, gz: bool = False) -> Path:
    data = b"".join(orjson.dumps(e, option=orjson.OPT_APPEND_NEWLINE) for e in events)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def csv_text(events: list[dict[str, Any]], header: list[str] | None = None) -> str:
    """The CSV mapping (docs/ingest.md): strings as they are, properties as JSON, None empty."""
    header = header or ["event_id", "user_id", "event_type", "occurred_at", "properties"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for e in events:
        cells = []
        for name in header:
            value = e.get(name)
            if value is None:
                cells.append("")
            elif name == "properties":
                cells.append(orjson.dumps(value).decode())
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue()


def stored(db: psycopg.Connection) -> dict[str, tuple[Any, ...]]:
    rows = db.execute(
        "select event_id, user_id, event_type, occurred_at, properties from raw.events"
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def expected(events: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What raw.events should hold, computed from the input (first copy of an id wins)."""
    out: dict[str, tuple[Any, ...]] = {}
    for e in events:
        when = datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")).astimezone(UTC)
        out.setdefault(
            e["event_id"], (e["user_id"], e["event_type"], when, e.get("properties") or {})
        )
    return out


def run_loader(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        encoding="latin-1",
        timeout=120,
        cwd=REPO_ROOT,
        check=False,
    )


def summary_of(output: str) -> dict[str, int]:
    match = SUMMARY.search(output)
    assert match, output
    return {k: int(v.replace(",", "")) for k, v in match.groupdict().items()}


def read_rejects(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_jsonl_loads_every_field_exactly(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    events = [event(i) for i in range(250)]
    events[7] = event(7, occurred_at="2024-05-02T01:30:00.1234569+02:00", user_id=" Zoë 🎉 ")
    events[8] = event(8, properties={"k\u0000": ["a\u0000"], "名": None})
    events[9] = event(9, properties=None)
    path = write_jsonl(tmp_path / "history.jsonl", events)
    summary = load_files(settings, [str(path)], chunk_size=100, rejects_path=tmp_path / "r.jsonl")
    assert (summary.read, summary.inserted, summary.duplicates, summary.rejected) == (
        250,
        250,
        0,
        0,
    )
    want = expected(events)
    want["h-0000008"] = (*want["h-0000008"][:3], {"k\ufffd": ["a\ufffd"], "名": None})
    assert stored(db) == want
    assert not (tmp_path / "r.jsonl").exists()  # written only when something is rejected


def test_rerun_inserts_nothing_and_reports_duplicates(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    events = [event(i) for i in range(120)] + [event(5, user_id="second copy")]
    path = write_jsonl(tmp_path / "h.ndjson", events)
    first = load_files(settings, [str(path)], chunk_size=50)
    assert (first.read, first.inserted, first.duplicates) == (121, 120, 1)
    again = load_files(settings, [str(path)], chunk_size=50)
    assert (again.read, again.inserted, again.duplicates, again.rejected) == (121, 0, 121, 0)
    assert count_events(db) == 120
    assert stored(db)["h-0000005"][0] == "u-5"  # the first copy in the file won


def test_csv_mapping(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> None:
    events = [event(i) for i in range(40)]
    events[3] = event(3, properties={"note": 'comma, "quote"\nand newline'})
    events[4] = event(4, properties=None)  # empty cell -> {}
    header = ["occurred_at", "event_type", "properties", "event_id", "user_id", "extra"]
    text = csv_text(events, header)
    path = tmp_path / "history.csv"
    path.write_text("\ufeff" + text.replace("\n", "\r\n", 4), encoding="utf-8")
    summary = load_files(settings, [str(path)], chunk_size=16)
    assert (summary.read, summary.inserted, summary.rejected) == (40, 40, 0)
    assert stored(db) == expected(events)


def test_gzip_files_and_stdin(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl.gz", [event(i) for i in range(0, 30)], gz=True)
    b = tmp_path / "b.csv.gz"
    b.write_bytes(gzip.compress(csv_text([event(i) for i in range(30, 60)]).encode()))
    result = run_loader(str(a), str(b))
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stdout) == {"read": 60, "inserted": 60, "duplicates": 0, "rejected": 0}
    plain = b"".join(orjson.dumps(event(i)) + b"\n" for i in range(60, 90))
    result = run_loader("-", "--format", "jsonl", stdin=plain)
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stdout)["inserted"] == 30
    gz = gzip.compress(b"".join(orjson.dumps(event(i)) + b"\n" for i in range(90, 100)))
    result = run_loader("-", "--format", "jsonl", stdin=gz)  # gzip on stdin is detected
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stdout)["inserted"] == 10
    assert stored(db) == expected([event(i) for i in range(100)])


def test_bad_rows_go_to_rejects_and_good_rows_in_the_same_chunk_load(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    lines = [
        orjson.dumps(event(0)),
        orjson.dumps(event(1, occurred_at="2024-05-01")),
        b"",
        b"{not json",
        orjson.dumps(event(2)),
        b'"a string"',
        b"\xff\xfe not utf-8",
        orjson.dumps(event(3, user_id=42)),
        orjson.dumps(event(4)),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rejects = tmp_path / "rejects.jsonl"
    result = run_loader(str(path), "--rejects", str(rejects))
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stdout) == {"read": 8, "inserted": 3, "duplicates": 0, "rejected": 5}
    assert sorted(stored(db)) == ["h-0000000", "h-0000002", "h-0000004"]
    got = read_rejects(rejects)
    assert [(r["source"], r["line"]) for r in got] == [(str(path), n) for n in (2, 4, 6, 7, 8)]
    assert got[0]["error"].startswith("occurred_at: must be an RFC 3339 timestamp")
    assert got[0]["text"] == lines[1].decode()
    assert got[1]["error"].startswith("line: not valid UTF-8 JSON")
    assert got[1]["text"] == "{not json"
    assert got[2]["error"] == "event: must be a JSON object, not string"
    assert got[3]["error"].startswith("line: not valid UTF-8 JSON")
    assert got[3]["text"] == "\\xff\\xfe not utf-8"
    assert got[4]["error"] == "user_id: must be a string, not number"
    # --strict: the same load (now all duplicates) exits 1 because rows were rejected.
    strict = run_loader(str(path), "--rejects", str(rejects), "--strict")
    assert strict.returncode == 1
    assert summary_of(strict.stdout)["duplicates"] == 3
    # A later run that rejects nothing leaves no rejects file behind from this one.
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(orjson.dumps(event(5)) + b"\n")
    assert run_loader(str(clean), "--rejects", str(rejects)).returncode == 0
    assert not rejects.exists()


def test_csv_bad_rows(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> None:
    text = (
        "event_id,user_id,event_type,occurred_at,properties\n"
        "c1,u1,click,2024-05-01T00:00:00Z,\n"
        "c2,u1,click,2024-05-01T00:00:00Z,{not json}\n"
        'c3,u1,click,2024-05-01T00:00:00Z,"{""a"": 1}",surplus\n'
        ",u1,click,2024-05-01T00:00:00Z,\n"
        'c4,u1,click,2024-05-01T00:00:00Z,"{""multi"":\n""line""}"\n'
        "c5,u1,click,2024-05-01T00:00:00Z,[1]\n"
        "c6,u1\n"
    )
    path = tmp_path / "bad.csv"
    path.write_text(text)
    rejects = tmp_path / "rejects.jsonl"
    summary = load_files(settings, [str(path)], rejects_path=rejects)
    assert (summary.read, summary.inserted, summary.rejected) == (7, 2, 5)
    assert stored(db)["c4"][3] == {"multi": "line"}
    got = [(r["line"], r["error"]) for r in read_rejects(rejects)]
    assert got == [
        (3, got[0][1]),
        (4, "row: 6 cells, the header has 5"),
        (5, "event_id: required"),
        (8, "properties: must be a JSON object, not array"),
        (9, "event_type: required"),
    ]
    assert got[0][1].startswith("properties: not valid JSON")


def test_shared_bad_table_same_verdicts_and_text_as_the_api(
    settings: Settings, client: TestClient, db: psycopg.Connection, tmp_path: Path
) -> None:
    """Every case of tests/bad_events.py, through POST /events and through the loader."""
    cases = [p.values[0] for p in BAD_EVENTS]
    reply = client.post("/events", json=[*cases, event(0)])
    api_errors = {r["index"]: r["error"] for r in reply.json()["rejected"]}
    assert sorted(api_errors) == list(range(len(cases)))  # and the good one accepted
    path = write_jsonl(tmp_path / "bad.jsonl", [*cases, event(0)])
    rejects = tmp_path / "rejects.jsonl"
    summary = load_files(settings, [str(path)], rejects_path=rejects)
    assert (summary.read, summary.inserted, summary.rejected) == (len(cases) + 1, 1, len(cases))
    loader_errors = {r["line"] - 1: r["error"] for r in read_rejects(rejects)}
    assert loader_errors == api_errors


@pytest.mark.parametrize(("bad", "error"), BAD_EVENTS)
def test_bad_event_rejected_by_the_loader_while_neighbours_land(
    settings: Settings, db: psycopg.Connection, tmp_path: Path, bad: Any, error: str
) -> None:
    path = write_jsonl(tmp_path / "case.jsonl", [event(0), bad, event(1)])
    rejects = tmp_path / "rejects.jsonl"
    summary = load_files(settings, [str(path)], rejects_path=rejects)
    assert (summary.inserted, summary.rejected) == (2, 1)
    [reject] = read_rejects(rejects)
    assert reject["line"] == 2
    assert reject["error"].startswith(error)
    assert sorted(stored(db)) == ["h-0000000", "h-0000001"]


def csv_form(bad: Any) -> dict[str, Any] | None:
    """A bad case as a CSV row can carry it, or None: CSV cells are text, never numbers."""
    if not isinstance(bad, dict):
        return None
    for name in ("event_id", "user_id", "event_type", "occurred_at"):
        if bad.get(name) is not None and not isinstance(bad[name], str):
            return None
    return bad


# Only the cases a CSV row can carry (every cell is text; see docs/ingest.md, CSV mapping).
CSV_BAD_EVENTS = [case for case in BAD_EVENTS if csv_form(case.values[0]) is not None]


@pytest.mark.parametrize(("bad", "error"), CSV_BAD_EVENTS)
def test_bad_event_in_csv(
    settings: Settings, db: psycopg.Connection, tmp_path: Path, bad: Any, error: str
) -> None:
    row = csv_form(bad)
    assert row is not None
    path = tmp_path / "case.csv"
    path.write_text(csv_text([event(0), row, event(1)]), encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    summary = load_files(settings, [str(path)], rejects_path=rejects)
    assert (summary.inserted, summary.rejected) == (2, 1)
    [reject] = read_rejects(rejects)
    # An empty cell means the field is absent, so "" is reported as missing.
    field = error.split(":")[0]
    if row.get(field) == "":
        error = f"{field}: required"
    assert reject["error"].startswith(error)
    assert reject["line"] == 3


def test_fatal_errors_exit_3_with_a_clear_message(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    missing = run_loader(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 3
    assert missing.stderr.strip().endswith("nope.jsonl: no such file")
    unknown = run_loader(str(write_jsonl(tmp_path / "events.txt", [event(0)])))
    assert unknown.returncode == 3
    assert "use --format jsonl|csv" in unknown.stderr
    header = tmp_path / "h.csv"
    header.write_text("id,user,type,when\n1,2,3,4\n")
    assert "the CSV header lacks" in run_loader(str(header)).stderr
    # A truncated gzip: the chunks before the damage stay committed.
    good = gzip.compress(b"".join(orjson.dumps(event(i)) + b"\n" for i in range(3000)))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(good[: len(good) * 3 // 4])
    result = run_loader(str(broken), "--chunk-size", "500")
    assert result.returncode == 3
    assert "broken.jsonl.gz: cannot read" in result.stderr
    assert "Traceback" not in result.stderr
    assert count_events(db) >= 500
    # Database down.
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    down = subprocess.run(
        [sys.executable, "-m", "loaders", str(write_jsonl(tmp_path / "ok.jsonl", [event(0)]))],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert down.returncode == 3
    assert "error: database: cannot connect" in down.stderr
    assert "Traceback" not in down.stderr


def processes_reading(path: Path) -> list[int]:
    """Pids whose command line names `path`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(path).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_run_killed_halfway_then_rerun_completes_without_duplicates(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    total = 120_000
    path = write_jsonl(tmp_path / "big.jsonl", [event(i) for i in range(total)])
    child = subprocess.Popen(
        [sys.executable, "-m", "loaders", str(path), "--chunk-size", "2000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while count_events(db) < 10_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    committed = count_events(db)
    deadline = time.monotonic() + 10
    while processes_reading(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_reading(path), "the reader process must not outlive its parent"
    assert 0 < committed < total, "the kill should land mid-load"
    result = run_loader(str(path))
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stdout) == {
        "read": total,
        "inserted": total - committed,
        "duplicates": committed,
        "rejected": 0,
    }
    row = db.execute("select count(*), count(distinct event_id) from raw.events").fetchone()
    assert row == (total, total)


def test_refresh_builds_the_marts_after_loading(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    for schema in ("staging", "intermediate", "marts"):
        db.execute(f"drop schema if exists {schema} cascade")
    events = [event(i) for i in range(500)]
    result = run_loader(str(write_jsonl(tmp_path / "h.jsonl", events)), "--refresh")
    assert result.returncode == 0, result.stderr
    assert "marts refreshed" in result.stdout
    days = db.execute("select count(*), sum(events) from marts.fct_daily_active_users").fetchone()
    assert days == (len({e["occurred_at"][:10] for e in events}), len(events))


def test_summary_line_reports_rate() -> None:
    summary = LoadSummary(read=1000, inserted=900, duplicates=100, rejected=0, seconds=2.0)
    assert summary.line() == (
        "read 1,000  inserted 900  duplicates 100  rejected 0  in 2.0 s (500 rows/s)"
    )


# Bad rows of a real export (issue 17), in turn: (line text from a good line, error prefix).
DIRTY_KINDS: list[tuple[Any, str]] = [
    (lambda e: orjson.dumps({k: v for k, v in e.items() if k != "event_id"}), "event_id: required"),
    (lambda e: orjson.dumps(e | {"user_id": None}), "user_id: required"),
    (lambda e: orjson.dumps(e | {"properties": {"b": "x" * 33 * 1024}}), "properties: 33"),
    (lambda e: orjson.dumps(e)[:50], "line: not valid UTF-8 JSON"),
    (lambda e: orjson.dumps(e | {"occurred_at": "2024-05-01"}), "occurred_at: must be an RFC"),
]
IMPOSSIBLE = "2024-02-30T12:00:00Z"


def dirty_file(path: Path, total: int) -> dict[int, str]:
    """`total` lines: one in 10 has an impossible date, one in 1,000 (offset 500) one of the
    `DIRTY_KINDS` in turn, the rest are good. Returns line number -> expected error prefix."""
    bad: dict[int, str] = {}
    kinds = 0
    with open(path, "wb") as out:
        for i in range(total):
            e = {
                "event_id": f"m-{i}",
                "user_id": f"u-{i % 5000}",
                "event_type": "page_view",
                "occurred_at": f"2024-05-{1 + i % 28:02d}T12:00:00.5Z",
                "properties": {"n": i, "p": "/x"},
            }
            if i % 1000 == 500:
                make, bad[i + 1] = DIRTY_KINDS[kinds % len(DIRTY_KINDS)]
                kinds += 1
                line = make(e)
            elif i % 10 == 5:
                line = orjson.dumps(e | {"occurred_at": IMPOSSIBLE})
                bad[i + 1] = f"occurred_at: '{IMPOSSIBLE}' is not a valid date and time"
            else:
                line = orjson.dumps(e)
            out.write(line + b"\n")
    return bad


def test_dirty_file_loads_every_good_row_and_rejects_every_bad_one(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    """Bad rows of every kind in most chunks (10 % + 0.1 %): nothing good lost, nothing bad in."""
    total = 12_000
    path = tmp_path / "dirty.jsonl"
    bad = dirty_file(path, total)
    rejects = tmp_path / "rejects.jsonl"
    summary = load_files(settings, [str(path)], chunk_size=1000, rejects_path=rejects)
    assert (summary.read, summary.inserted, summary.duplicates, summary.rejected) == (
        total,
        total - len(bad),
        0,
        len(bad),
    )
    good = {f"m-{i}" for i in range(total) if i + 1 not in bad}
    assert {r[0] for r in db.execute("select event_id from raw.events")} == good
    lines = path.read_bytes().splitlines()
    got = read_rejects(rejects)
    assert [r["line"] for r in got] == sorted(bad)
    for r in got:
        assert r["error"].startswith(bad[r["line"]]), r
        assert r["text"] == lines[r["line"] - 1].decode()
    assert {e.split(":")[0] for e in bad.values()} == {
        "event_id",
        "user_id",
        "properties",
        "line",
        "occurred_at",
    }


def test_million_rows_with_flat_memory(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    """1M events (~150 MB), a tenth of them bad, through `python -m loaders`: exact counts,
    and the peak RSS of the whole process tree stays under 300 MB."""
    total = 1_000_000
    path = tmp_path / "million.jsonl"
    bad = dirty_file(path, total)
    rejects = tmp_path / "rejects.jsonl"
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "loaders", str(path), "--rejects", str(rejects)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO_ROOT,
    )
    peaks: dict[int, int] = {}  # pid -> VmHWM (kB) of the loader and any child process
    watcher = threading.Thread(target=watch_peak_rss, args=(child, peaks), daemon=True)
    watcher.start()
    assert child.stdout is not None
    with child.stdout:
        output = child.stdout.read().decode()
    child.wait()
    watcher.join()
    seconds = time.monotonic() - started
    peak_mb = {pid: kb / 1024 for pid, kb in peaks.items()}
    line = (
        f"1M-row load ({len(bad):,} bad): {seconds:.1f} s; peak RSS per process (MB): "
        + ", ".join(f"{mb:.0f}" for mb in peak_mb.values())
        + f"; together {sum(peak_mb.values()):.0f}"
    )
    (REPO_ROOT / ".eventmart").mkdir(exist_ok=True)
    (REPO_ROOT / ".eventmart" / "test-loader-million.txt").write_text(line + "\n" + output)
    assert child.returncode == 0, output
    assert summary_of(output) == {
        "read": total,
        "inserted": total - len(bad),
        "duplicates": 0,
        "rejected": len(bad),
    }
    assert count_events(db) == total - len(bad)
    got = read_rejects(rejects)
    assert [r["line"] for r in got] == sorted(bad)
    assert all(r["error"].startswith(bad[r["line"]]) for r in got)
    assert peak_mb, line
    assert sum(peak_mb.values()) < 300, line  # every process of the tree at its own peak


def watch_peak_rss(child: subprocess.Popen[bytes], peaks: dict[int, int]) -> None:
    """Poll the high-water RSS (VmHWM) of `child` and its children until it exits (their sum
    bounds the tree's RSS at any one moment).

    Not `ru_maxrss`: Linux carries the forking process's peak (here pytest's) across exec.
    """
    while child.poll() is None:
        pids = [child.pid]
        # Each thread's children are listed under its own task (a child started by the
        # reader thread would not appear under the main one).
        for task in Path(f"/proc/{child.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, StopIteration):
                status = Path(f"/proc/{pid}/status").read_text()
                hwm = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
                peaks[pid] = max(peaks.get(pid, 0), int(hwm.split()[1]))
        time.sleep(0.1)


def test_first_copy_wins_when_it_needs_the_full_rules_and_a_later_copy_does_not(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    """A row the column forms cannot clear (an offset timestamp, NUL in a field) goes through
    the pandera schema; a later copy of its event_id, cleared by the column forms, in the same
    chunk or a later one, must not replace it. Good rows of every other form load."""
    events = [event(i) for i in range(40)]
    events[3] = event(3, occurred_at="2024-05-02T01:30:00+02:00", properties={"copy": "first"})
    events[5] = event(3, properties={"copy": "second, same chunk"})
    events[14] = event(3, properties={"copy": "third, later chunk"})
    events[21] = event(21, user_id="a\u0000b", properties={"copy": "first"})
    events[33] = event(21, properties={"copy": "second, later chunk"})
    events[25] = event(25, occurred_at="2024-05-02 01:30:00z", properties=[1])  # a reject
    events[26] = event(26, occurred_at="2024-05-02t01:30:00Z")
    path = write_jsonl(tmp_path / "dups.jsonl", events)
    rejects = tmp_path / "rejects.jsonl"
    summary = load_files(settings, [str(path)], chunk_size=10, rejects_path=rejects)
    assert (summary.read, summary.rejected) == (40, 1)
    assert summary.inserted == 40 - 1 - 3
    assert [(r["line"], r["error"]) for r in read_rejects(rejects)] == [
        (26, "properties: must be a JSON object, not array")
    ]
    rows = stored(db)
    assert rows["h-0000003"][3] == {"copy": "first"}
    assert rows["h-0000003"][2] == datetime(2024, 5, 1, 23, 30, tzinfo=UTC)
    assert rows["h-0000021"][0] == "a\ufffdb"
    assert rows["h-0000021"][3] == {"copy": "first"}
    assert rows["h-0000026"][2] == datetime(2024, 5, 2, 1, 30, tzinfo=UTC)
    special = {"h-0000003", "h-0000021", "h-0000025", "h-0000026"}
    want = expected([e for e in events if e["event_id"] not in special])
    assert len(want) == 40 - 3 - 4
    assert {k: v for k, v in rows.items() if k in want} == want
