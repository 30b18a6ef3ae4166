"""`eventmart load`: stream history files through the schema into the one raw writer.

A reader thread reads and validates chunk N+1 while this thread writes chunk N. Writing is
mostly PostgreSQL's work (the client's share of a chunk is its binary COPY encoding), and
psycopg releases the GIL while it waits for the server, so one process overlaps the two
without a second interpreter, a fork's copy of the first, or pickling between them.
Each chunk is its own transaction: a run stopped at any point keeps every chunk written so
far, and running it again stores the rest (what is already there counts as duplicates).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
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
from loaders.sources import Format, LoadError, Source, open_source, resolve_sources
from loaders.validate import ChunkValidator, ValidColumns
from loaders.writer import write_events

log = structlog.get_logger(__name__)

DEFAULT_CHUNK_SIZE = 20_000
DEFAULT_REJECTS = Path("eventmart-rejects.jsonl")
QUEUED_CHUNKS = 1  # validated chunks waiting for the writer: bounds memory


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
    """JSON Lines of rejected rows, opened only when the first reject arrives. The file always
    describes the last run: one left at the same path by an earlier run is removed when this
    run rejects nothing."""

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
        elif self.path.is_file():
            self.path.unlink(missing_ok=True)
            log.info("rejects_file_removed", path=str(self.path), reason="from an earlier run")


@dataclass(frozen=True, slots=True)
class _Validated:
    valid: ValidColumns
    rejects: list[Reject]
    read: int
    source_index: int
    bytes_consumed: int


def _chunks(sources: list[Source], chunk_size: int) -> Iterator[tuple[int, Chunk]]:
    for index, source in enumerate(sources):
        with open_source(source) as (stream, counter):
            try:
                for chunk in READERS[source.format](source, stream, counter.position, chunk_size):
                    yield index, chunk
            except (OSError, EOFError) as exc:  # truncated or corrupt .gz, read error
                raise LoadError(f"{source.name}: cannot read ({exc})") from None


class _Reader(threading.Thread):
    """Reads and validates chunks in order and hands each to the writer through `items`.

    Ends with `None`, or with the `LoadError` that stopped it; stops early when told to
    (the writer failed or was interrupted).
    """

    def __init__(
        self,
        sources: list[Source],
        chunk_size: int,
        received_at: datetime,
        max_future_skew: float,
    ) -> None:
        super().__init__(name="eventmart-load-reader", daemon=True)
        self.items: queue.Queue[object] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self.stopping = threading.Event()
        self._args = (sources, chunk_size, received_at, max_future_skew)

    def run(self) -> None:
        sources, chunk_size, received_at, max_future_skew = self._args
        try:
            validator = ChunkValidator(received_at, max_future_skew)
            for index, chunk in _chunks(sources, chunk_size):
                valid, rejects = validator.validate(chunk)
                item = _Validated(valid, rejects, chunk.read, index, chunk.bytes_consumed)
                del chunk, valid, rejects
                if not self._hand_over(item):
                    return
            self._hand_over(None)
        except LoadError as exc:
            self._hand_over(exc)
        except Exception as exc:  # whatever it is, the writer reports it
            self._hand_over(LoadError(f"reading failed: {type(exc).__name__}: {exc}"))

    def _hand_over(self, item: object) -> bool:
        """Queue `item` (waiting while the writer is busy); False once told to stop."""
        while not self.stopping.is_set():
            try:
                self.items.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def stop(self) -> None:
        """Make the thread end soon (after the chunk it is reading, at most) and wait for it.

        A read blocked on stdin cannot be interrupted: the thread is a daemon, so it never
        keeps the process alive.
        """
        self.stopping.set()
        self.join(timeout=5)


def _next_item(reader: _Reader) -> object:
    while True:
        try:
            return reader.items.get(timeout=1.0)
        except queue.Empty:
            if not reader.is_alive() and reader.items.empty():
                raise LoadError("the reader thread stopped unexpectedly") from None


def load_files(
    settings: Settings,
    paths: list[str],
    *,
    format: Format | None = None,
    rejects_path: Path = DEFAULT_REJECTS,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int | None], LoadProgress] | None = None,
) -> LoadSummary:
    """Load every path; return the counts. Raises `LoadError` when fatal (file, database).

    Every chunk written before a fatal error stays written. `progress` makes the progress
    display, given the total input size (None when unknown, e.g. stdin).
    """
    if chunk_size < 1:
        raise LoadError("--chunk-size must be at least 1")
    sources = resolve_sources(paths, format)
    summary = LoadSummary()
    received_at = datetime.now(UTC)  # received_at of every row, and the future-skew origin
    started = time.monotonic()
    rejects = RejectsFile(rejects_path)
    log.info("load_started", sources=[s.name for s in sources], chunk_size=chunk_size)
    reader = _Reader(sources, chunk_size, received_at, settings.max_future_skew)
    with ExitStack() as stack:
        stack.callback(rejects.close)
        reader.start()
        stack.callback(reader.stop)
        try:
            conn = stack.enter_context(connect(settings, autocommit=True))
        except psycopg.OperationalError as exc:
            raise LoadError(f"database: cannot connect ({_first_line(exc)})") from None
        offsets = [sum(s.size or 0 for s in sources[:i]) for i in range(len(sources))]
        sizes = [s.size for s in sources]
        shown = (
            progress(None if None in sizes else sum(s or 0 for s in sizes)) if progress else None
        )
        if shown is not None:
            stack.callback(shown.close)
        while (item := _next_item(reader)) is not None:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, _Validated)
            if item.valid.event_id:
                try:
                    result = write_events(conn, item.valid.rows(received_at))
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
            if shown is not None:
                shown.update(summary.read, offsets[item.source_index] + item.bytes_consumed)
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
