"""Streaming readers: JSON Lines and CSV into chunks of column lists, ready for the schema.

A chunk holds, for each candidate row, its line number, its original text and the raw value
of each field (`None` when absent), plus the rows already rejected while reading (not JSON,
not an object, a malformed CSV row). Field rules are checked later, by `loaders.schema`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from core.events import EventError, check_object
from loaders.sources import MAX_LINE_BYTES, LoadError, OverlongLine, Source, iter_lines

FIELDS = ("event_id", "user_id", "event_type", "occurred_at", "properties")
REQUIRED_CSV_COLUMNS = FIELDS[:4]
OVERLONG = f"line: longer than {MAX_LINE_BYTES} bytes"


@dataclass(frozen=True, slots=True)
class Reject:
    """One row that will not load: where it was, its original text, and why."""

    source: str
    line: int
    text: str
    error: str


@dataclass(slots=True)
class Chunk:
    """Up to `chunk_size` rows read from one source."""

    source: str
    lines: list[int] = field(default_factory=list)
    texts: list[bytes | str] = field(default_factory=list)
    columns: dict[str, list[Any]] = field(default_factory=lambda: {f: [] for f in FIELDS})
    rejects: list[Reject] = field(default_factory=list)
    bytes_consumed: int = 0  # of the source file, when the chunk was complete

    @property
    def read(self) -> int:
        """Rows read: candidates plus rows rejected while reading."""
        return len(self.lines) + len(self.rejects)


def original_text(text: bytes | str) -> str:
    """The row as it appeared in the file, without its line ending (bad bytes escaped)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    return text.rstrip("\r\n")


def jsonl_chunks(
    source: Source, stream: BinaryIO, consumed: Callable[[], int], chunk_size: int
) -> Iterator[Chunk]:
    """Chunks of a JSON Lines stream; blank lines are skipped."""
    chunk = Chunk(source.name)
    add_id, add_user, add_type, add_at, add_props, add_line, add_text = _appenders(chunk)
    room = chunk_size
    for number, line in enumerate(iter_lines(stream), 1):
        if type(line) is OverlongLine:
            chunk.rejects.append(Reject(source.name, number, original_text(line), OVERLONG))
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if not line.strip():
                continue
            error = f"line: not valid UTF-8 JSON ({exc})"
            chunk.rejects.append(Reject(source.name, number, original_text(line), error))
            continue
        if type(event) is not dict:
            try:
                check_object(event)
            except EventError as exc:
                chunk.rejects.append(Reject(source.name, number, original_text(line), str(exc)))
            continue
        get = event.get  # unrolled over FIELDS: this loop runs once per row
        add_id(get("event_id"))
        add_user(get("user_id"))
        add_type(get("event_type"))
        add_at(get("occurred_at"))
        add_props(get("properties"))
        add_line(number)
        add_text(line)
        room -= 1
        if not room:
            chunk.bytes_consumed = consumed()
            yield chunk
            chunk = Chunk(source.name)
            add_id, add_user, add_type, add_at, add_props, add_line, add_text = _appenders(chunk)
            room = chunk_size
    chunk.bytes_consumed = consumed()
    yield chunk


def _appenders(chunk: Chunk) -> list[Callable[[Any], None]]:
    """The `append` of each field's list, then of `lines` and `texts`."""
    return [*(chunk.columns[f].append for f in FIELDS), chunk.lines.append, chunk.texts.append]


def _csv_header(row: list[str] | None, name: str) -> list[int | None]:
    """For each field, its column index in the file (None: no such column)."""
    if row is None:
        raise LoadError(f"{name}: empty file; a CSV needs the header {','.join(FIELDS)}")
    header = [cell.strip() for cell in row]
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]  # a UTF-8 byte-order mark from a spreadsheet
    missing = [f for f in REQUIRED_CSV_COLUMNS if f not in header]
    if missing:
        raise LoadError(
            f"{name}: the CSV header lacks {','.join(missing)} (expected {','.join(FIELDS)}, "
            f"got {','.join(header)})"
        )
    for f in FIELDS:
        if header.count(f) > 1:
            raise LoadError(f"{name}: the CSV header names {f} twice")
    return [header.index(f) if f in header else None for f in FIELDS]


def csv_chunks(
    source: Source, stream: BinaryIO, consumed: Callable[[], int], chunk_size: int
) -> Iterator[Chunk]:
    """Chunks of a CSV stream with a header (docs/ingest.md, "CSV mapping"); blank lines skipped."""
    pending: list[str] = []  # physical lines of the record being parsed
    flaws: list[str] = []  # what was wrong with those lines (bad UTF-8, too long)
    counter = [0]

    def tracked_lines() -> Iterator[str]:
        for raw in iter_lines(stream):
            counter[0] += 1
            if type(raw) is OverlongLine:
                flaws.append(OVERLONG)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                flaws.append(f"line: not valid UTF-8 ({exc.reason} at byte {exc.start})")
                text = raw.decode("utf-8", "backslashreplace")
            pending.append(text)
            yield text

    csv.field_size_limit(MAX_LINE_BYTES)  # the default (128 KiB) is below the line limit
    reader = csv.reader(tracked_lines(), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise LoadError(f"{source.name}: cannot read the CSV header ({exc})") from None
    positions = _csv_header(header, source.name)
    header_cells = len(header or ())
    pending.clear()
    flaws.clear()
    chunk = Chunk(source.name)
    cols = [chunk.columns[f] for f in FIELDS]
    prop_index = positions[-1]
    while True:
        try:
            record = next(reader, None)
            error = None
        except csv.Error as exc:
            record, error = [], f"row: not valid CSV ({exc})"
        if record is None:
            break
        number = counter[0] - len(pending) + 1
        text = "".join(pending)
        pending.clear()
        if flaws:
            error = flaws[0]
            flaws.clear()
        if error is None and not record:
            continue  # a blank line
        if error is None and len(record) > header_cells:
            error = f"row: {len(record)} cells, the header has {header_cells}"
        if error is None:
            error = _append_csv_row(record, positions, prop_index, cols)
        if error is not None:
            chunk.rejects.append(Reject(source.name, number, original_text(text), error))
            continue
        chunk.lines.append(number)
        chunk.texts.append(text)
        if len(chunk.lines) >= chunk_size:
            chunk.bytes_consumed = consumed()
            yield chunk
            chunk = Chunk(source.name)
            cols = [chunk.columns[f] for f in FIELDS]
    chunk.bytes_consumed = consumed()
    yield chunk


def _append_csv_row(
    record: list[str], positions: list[int | None], prop_index: int | None, cols: list[list[Any]]
) -> str | None:
    """Append one CSV record's values (empty cell = absent); an error if properties isn't JSON."""
    props: Any = None
    if prop_index is not None and prop_index < len(record) and record[prop_index]:
        try:
            props = orjson.loads(record[prop_index])
        except orjson.JSONDecodeError as exc:
            return f"properties: not valid JSON ({exc})"
    n = len(record)
    for values, pos in zip(cols[:4], positions[:4], strict=True):
        cell = record[pos] if pos is not None and pos < n else ""
        values.append(cell or None)
    cols[4].append(props)
    return None


READERS = {"jsonl": jsonl_chunks, "csv": csv_chunks}
