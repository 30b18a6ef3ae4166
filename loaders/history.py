"""`eventmart load`: stream history files through the schema into the one raw writer.

A reader process reads and validates chunk N+1 while this process writes chunk N (and the
database does its part of the work meanwhile), so reading, checking and writing overlap.
Each chunk is its own transaction: a run stopped at any point keeps every chunk written so
far, and running it again stores the rest (what is already there counts as duplicates).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import IO, BinaryIO

import orjson
import psycopg
import structlog

from core.db import connect
from core.settings import Settings
from loaders.progress import LoadProgress
from loaders.readers import READERS, Chunk, Reject
from loaders.schema import PackedColumns, event_schema, validate_chunk
from loaders.sources import Format, LoadError, Source, open_source, resolve_sources
from loaders.writer import write_events

log = structlog.get_logger(__name__)

DEFAULT_CHUNK_SIZE = 20_000
DEFAULT_REJECTS = Path("eventmart-rejects.jsonl")
QUEUED_CHUNKS = 2  # validated chunks waiting for the writer: bounds memory


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
    valid: PackedColumns  # not row tuples: several times cheaper to pass between processes
    rejects: list[Reject]
    read: int
    source_index: int
    bytes_consumed: int


def _chunks(
    sources: list[Source], chunk_size: int, stdin: BinaryIO | None
) -> Iterator[tuple[int, Chunk]]:
    for index, source in enumerate(sources):
        with open_source(source, stdin) as (stream, counter):
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
    out: multiprocessing.Queue[object],
    stdin_fd: int | None,
    parent: int,
) -> None:
    """The reader process: read and validate chunks in order, hand each to the writer.

    Ends with `None`, or with the `LoadError` that stopped it. Gives up when its parent is
    gone (killed), so an interrupted load never leaves a reader behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle
    stdin = open(stdin_fd, "rb", buffering=0) if stdin_fd is not None else None  # noqa: SIM115
    schema = event_schema(received_at, max_future_skew)
    try:
        for index, chunk in _chunks(sources, chunk_size, stdin):
            valid, rejects = validate_chunk(schema, chunk, received_at, max_future_skew)
            item = _Validated(valid.pack(), rejects, chunk.read, index, chunk.bytes_consumed)
            del chunk, valid, rejects
            while True:
                try:
                    out.put(item, timeout=0.5)
                    break
                except queue.Full:
                    if os.getppid() != parent:
                        out.cancel_join_thread()  # nobody will read it: exit without flushing
                        return
        out.put(None)
    except LoadError as exc:
        out.put(exc)
    except Exception as exc:  # not picklable in general: hand over its text
        out.put(LoadError(f"reading failed: {type(exc).__name__}: {exc}"))


def _next_item(validated: multiprocessing.Queue[object], reader: BaseProcess) -> object:
    while True:
        try:
            return validated.get(timeout=1.0)
        except queue.Empty:
            if not reader.is_alive():
                with suppress(queue.Empty):  # its last item may have landed just now
                    return validated.get(timeout=0.5)
                raise LoadError(
                    f"the reader process stopped unexpectedly (exit code {reader.exitcode})"
                ) from None


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
    # Reading and checking (Python) and writing (mostly PostgreSQL) each keep a core busy, so
    # the reader is a forked process rather than a thread sharing this one's GIL. It is
    # forked before any database connection exists, so it inherits none.
    context = multiprocessing.get_context("fork")
    validated: multiprocessing.Queue[object] = context.Queue(maxsize=QUEUED_CHUNKS)
    stdin_fd = os.dup(sys.stdin.fileno()) if any(s.is_stdin for s in sources) else None
    reader = context.Process(
        target=_produce,
        args=(
            sources,
            chunk_size,
            received_at,
            settings.max_future_skew,
            validated,
            stdin_fd,
            os.getpid(),
        ),
        name="eventmart-load-reader",
        daemon=True,
    )
    with ExitStack() as stack:
        stack.callback(rejects.close)
        reader.start()
        if stdin_fd is not None:
            os.close(stdin_fd)  # the reader has its own copy
        stack.push(lambda failed, *_: _stop(reader, validated, finished=failed is None))
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
            stack.callback(shown.close)  # made after the fork: the reader inherits no display
        while (item := _next_item(validated, reader)) is not None:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, _Validated)
            if item.valid.rows_count:
                try:
                    result = write_events(conn, item.valid.unpack().rows(received_at))
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


def _stop(reader: BaseProcess, validated: multiprocessing.Queue[object], *, finished: bool) -> None:
    """Reap the reader: it has finished, or (after an error) is stopped at once."""
    reader.join(timeout=5 if finished else 0)
    if reader.is_alive():
        reader.terminate()
        reader.join()
    reader.close()
    validated.close()
    validated.join_thread()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
