"""History-file inputs: paths, `.gz` and `-` (stdin), opened as byte streams read line by line.

Nothing here reads a whole file: lines come from buffered (and, for `.gz`, decompressing)
readers, and a counter on the underlying file tells how many bytes have been consumed.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Literal

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
STDIN = "-"
EXTENSIONS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
GZIP_MAGIC = b"\x1f\x8b"
READ_BUFFER = 1024 * 1024
# No event comes near this (properties are at most 32 KiB); a longer line is rejected, never
# held in memory whole.
MAX_LINE_BYTES = 4 * 1024 * 1024


class LoadError(Exception):
    """A fatal problem with the inputs (unreadable file, unknown format, bad CSV header)."""


class CountingReader(io.RawIOBase):
    """A raw reader that counts the bytes taken from the file (compressed bytes for `.gz`)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.consumed += n
        return n

    def position(self) -> int:
        return self.consumed

    def close(self) -> None:
        if self._raw is not sys.stdin.buffer:
            self._raw.close()
        super().close()


@dataclass(frozen=True, slots=True)
class Source:
    """One input: a path, or `-` for standard input."""

    name: str
    format: Format
    gzipped: bool
    size: int | None  # bytes on disk (compressed for .gz); None for stdin

    @property
    def is_stdin(self) -> bool:
        return self.name == STDIN


def detect_format(name: str) -> tuple[Format | None, bool]:
    """(format from the extension or None, gzipped?) for `events.jsonl.gz` and the like."""
    suffixes = [s.lower() for s in Path(name).suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    return (EXTENSIONS.get(suffixes[-1]) if suffixes else None), gzipped


def resolve_sources(paths: list[str], forced: Format | None) -> list[Source]:
    """Check every input before anything is loaded, so a typo fails fast and loads nothing."""
    sources: list[Source] = []
    if paths.count(STDIN) > 1:
        raise LoadError("`-` (standard input) can be given only once")
    for name in paths:
        fmt, gzipped = detect_format(name) if name != STDIN else (None, False)
        fmt = forced or fmt
        if fmt is None:
            raise LoadError(
                f"{name}: cannot tell the format from the name; use --format jsonl|csv "
                "(known extensions: .jsonl, .ndjson, .csv, each optionally .gz)"
            )
        size = None
        if name != STDIN:
            path = Path(name)
            if not path.is_file():
                raise LoadError(f"{name}: no such file")
            if not os.access(path, os.R_OK):
                raise LoadError(f"{name}: not readable (permission denied)")
            size = path.stat().st_size
        sources.append(Source(name, fmt, gzipped, size))
    return sources


@contextmanager
def open_source(
    source: Source, stdin: BinaryIO | None = None
) -> Iterator[tuple[BinaryIO, CountingReader]]:
    """(line-iterable byte stream, byte counter); stdin is gunzipped when it starts gzipped.

    `stdin` replaces `sys.stdin.buffer` (a reader process gets its own copy).
    """
    raw: BinaryIO
    try:
        raw = (stdin or sys.stdin.buffer) if source.is_stdin else open(source.name, "rb")  # noqa: SIM115
    except OSError as exc:
        raise LoadError(f"{source.name}: cannot open ({exc.strerror or exc})") from None
    counter = CountingReader(raw)
    buffered = io.BufferedReader(counter, READ_BUFFER)
    stream: BinaryIO = buffered
    try:
        if source.gzipped or (source.is_stdin and buffered.peek(2)[:2] == GZIP_MAGIC):
            stream = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
        yield stream, counter
    finally:
        stream.close()
        buffered.close()


class OverlongLine(bytes):
    """The first `MAX_LINE_BYTES` of a line that was longer; the rest was skipped unread."""


def iter_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of `stream` (with their newline), each at most `MAX_LINE_BYTES` long.

    A longer line comes as an `OverlongLine` holding its start; the rest is skipped.
    """
    readline = partial(stream.readline, MAX_LINE_BYTES)
    for line in iter(readline, b""):  # a C-level loop: no Python frame per line
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := readline()) and not rest.endswith(b"\n"):
                pass
            yield OverlongLine(line)
        else:
            yield line
