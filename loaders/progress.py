"""Progress of a load: a rich bar on a terminal, periodic structured log lines otherwise."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Protocol

import structlog

if TYPE_CHECKING:
    from rich.console import Console

log = structlog.get_logger(__name__)

LOG_EVERY_SECONDS = 10.0


class LoadProgress(Protocol):
    def update(self, rows: int, position: int) -> None:
        """`rows` read so far; `position`: bytes of the inputs consumed so far."""

    def close(self) -> None: ...


class BarProgress:
    """rich progress bar: bytes, rows, rows/s, and an ETA when the total size is known."""

    def __init__(self, total_bytes: int | None, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [
            TextColumn("[bold]loading"),
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:>12,} rows  {task.fields[rate]:>9,.0f} rows/s"),
            TimeElapsedColumn(),
        ]
        if total_bytes is not None:
            columns.append(TimeRemainingColumn())
        self._bar = Progress(*columns, console=console, refresh_per_second=4)
        self._task = self._bar.add_task("load", total=total_bytes, rows=0, rate=0.0)
        self._started = time.monotonic()
        self._bar.start()

    def update(self, rows: int, position: int) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        self._bar.update(self._task, completed=position, rows=rows, rate=rows / elapsed)

    def close(self) -> None:
        self._bar.stop()


class LogProgress:
    """A `load_progress` log line at most every `every` seconds (for pipes, files, CI)."""

    def __init__(self, total_bytes: int | None, every: float = LOG_EVERY_SECONDS) -> None:
        self._total = total_bytes
        self._every = every
        self._started = self._last = time.monotonic()

    def update(self, rows: int, position: int) -> None:
        now = time.monotonic()
        if now - self._last < self._every:
            return
        self._last = now
        elapsed = now - self._started
        fields: dict[str, object] = {
            "rows": rows,
            "bytes": position,
            "rows_per_s": round(rows / elapsed),
            "elapsed_s": round(elapsed, 1),
        }
        if self._total:
            done = min(position / self._total, 1.0)
            fields["percent"] = round(100 * done, 1)
            if done > 0:
                fields["eta_s"] = round(elapsed * (1 - done) / done, 1)
        log.info("load_progress", **fields)

    def close(self) -> None:
        pass


def make_progress(total_bytes: int | None, console: Console | None = None) -> LoadProgress:
    """A bar when the console is a terminal, log lines otherwise."""
    if console is None:
        if not (
            sys.stderr.isatty() or os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE")
        ):
            return LogProgress(total_bytes)  # rich (its import) only for a terminal
        from rich.console import Console

        console = Console(stderr=True)
    if console.is_terminal:
        return BarProgress(total_bytes, console)
    return LogProgress(total_bytes)
