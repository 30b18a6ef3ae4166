"""`eventmart load`: stream history files through the schema into the one raw writer.

A background thread reads and validates chunk N+1 while this thread writes chunk N (the
database does its part of the work meanwhile), so reading, checking and writing overlap.
Each chunk is its own transaction: a run stopped at any point keeps every chunk written so
far, and running it again stores the rest (what is already there counts as duplicates).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson
import psycopg
import structlog

from core.db import connect
from core.settings import Settings
from loaders.progress import LoadProgress
from loaders.readers import READERS, Chunk, Reject
from loaders.schema import event_schema, validate_chunk
from loaders.sources import Format, LoadError, Source, open_source, resolve_sources
from loaders.writer import Row, write_events

log = structlog.get_logger(__name__)

DEFAULT_CHUNK_SIZE = 20_000
DEFAULT_REJECTS = Path("eventmart-rejects.jsonl")
QUEUED_CHUNKS = 2  # validated chunks waiting for the writer: bounds memory
SWITCH_INTERVAL = 0.0005  # seconds


@dataclass(slots=True)
class LoadSummary:
    """What one `eventmart load` did."""

    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects_file: Path | None = None

    @property
    def rows_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"read {self.read:,}  inserted {self.inserted:,}  duplicates {self.duplicates:,}  "
            f"rejected {self.rejected:,}  in {self.seconds:.1f} s ({self.rows_per_s:,.0f} rows/s)"
        )


class RejectsFile:
    """JSON Lines of rejected rows, opened only when the first reject arrives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def write(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        if self._file is None:
            try:
                self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise LoadError(f"{self.path}: cannot write the rejects file ({exc})") from None
        self._file.writelines(
            orjson.dumps(
                {"source": r.source, "line": r.line, "error": r.error, "text": r.text},
                option=orjson.OPT_APPEND_NEWLINE,
            )
            for r in rejects
        )
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass(frozen=True, slots=True)
class _Validated:
    rows: list[Row]
    rejects: list[Reject]
    read: int
    source_index: int
    bytes_consumed: int


_DONE = object()


def _chunks(sources: list[Source], chunk_size: int) -> Iterator[tuple[int, Chunk]]:
    for index, source in enumerate(sources):
        with open_source(source) as (stream, counter):
            try:
                for chunk in READERS[source.format](source, stream, counter.position, chunk_size):
                    yield index, chunk
            except (OSError, EOFError) as exc:  # truncated or corrupt .gz, read error
                raise LoadError(f"{source.name}: cannot read ({exc})") from None


def _produce(
    sources: list[Source],
    chunk_size: int,
    received_at: datetime,
    max_future_skew: float,
    out: queue.Queue[object],
    stop: threading.Event,
) -> None:
    """Read and validate chunks in order; hand them (or the error that stopped us) to `out`."""
    schema = event_schema(received_at, max_future_skew)
    try:
        for index, chunk in _chunks(sources, chunk_size):
            rows, rejects = validate_chunk(schema, chunk, received_at, max_future_skew)
            item = _Validated(rows, rejects, chunk.read, index, chunk.bytes_consumed)
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(_DONE)
    except BaseException as exc:  # handed to the writer thread, which re-raises it
        out.put(exc)


def load_files(
    settings: Settings,
    paths: list[str],
    *,
    format: Format | None = None,
    rejects_path: Path = DEFAULT_REJECTS,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: LoadProgress | None = None,
) -> LoadSummary:
    """Load every path; return the counts. Raises `LoadError` / `psycopg.Error` when fatal.

    Every chunk written before a fatal error stays written.
    """
    if chunk_size < 1:
        raise LoadError("--chunk-size must be at least 1")
    sources = resolve_sources(paths, format)
    summary = LoadSummary()
    received_at = datetime.now(UTC)  # received_at of every row, and the future-skew origin
    started = time.monotonic()
    rejects = RejectsFile(rejects_path)
    validated: queue.Queue[object] = queue.Queue(maxsize=QUEUED_CHUNKS)
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce,
        args=(sources, chunk_size, received_at, settings.max_future_skew, validated, stop),
        name="eventmart-load-reader",
        daemon=True,
    )
    log.info("load_started", sources=[s.name for s in sources], chunk_size=chunk_size)
    with ExitStack() as stack:
        # The writer thread mostly waits on the database; a short switch interval hands it
        # the GIL back promptly from the busy reader thread (the default 5 ms stalls it).
        stack.callback(sys.setswitchinterval, sys.getswitchinterval())
        sys.setswitchinterval(SWITCH_INTERVAL)
        stack.callback(rejects.close)
        stack.callback(stop.set)
        try:
            conn = stack.enter_context(connect(settings, autocommit=True))
        except psycopg.OperationalError as exc:
            raise LoadError(f"database: cannot connect ({_first_line(exc)})") from None
        producer.start()
        offsets = [sum(s.size or 0 for s in sources[:i]) for i in range(len(sources))]
        while True:
            item = validated.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, _Validated)
            if item.rows:
                try:
                    result = write_events(conn, item.rows)
                except psycopg.OperationalError as exc:
                    raise LoadError(
                        f"database: {_first_line(exc)}; {summary.inserted:,} rows inserted "
                        "before this are kept — run the same command again to finish"
                    ) from None
                summary.inserted += result.inserted
                summary.duplicates += result.duplicates
            rejects.write(item.rejects)
            summary.read += item.read
            summary.rejected += len(item.rejects)
            if progress is not None:
                progress.update(summary.read, offsets[item.source_index] + item.bytes_consumed)
        summary.seconds = time.monotonic() - started
    summary.rejects_file = rejects_path if summary.rejected else None
    log.info(
        "load_finished",
        read=summary.read,
        inserted=summary.inserted,
        duplicates=summary.duplicates,
        rejected=summary.rejected,
        seconds=round(summary.seconds, 3),
        rows_per_s=round(summary.rows_per_s),
        rejects_file=str(summary.rejects_file) if summary.rejects_file else None,
    )
    return summary


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
