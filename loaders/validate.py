"""One chunk's valid rows and rejects: the column forms of the rules, then the pandera schema.

The column forms (`core.events.clear_*`) run a few C-level passes over each column and clear
the values the rules would store unchanged; they never reject. The rows they cannot clear
(a bad row, or a valid one in a rarer form: a `+02:00` offset, deep properties) go to the
pandera schema of `loaders.schema`, which runs the per-value rules and decides: in a child
process during a load (`loaders.judge`), in this one through `ChunkValidator.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, Any, NamedTuple

from core.events import (
    MAX_EVENT_ID_CHARS,
    MAX_TEXT_CHARS,
    NUL,
    REPLACEMENT,
    clear_properties,
    clear_texts,
    clear_timestamps,
)
from loaders.readers import FIELDS, Chunk, Reject, original_text
from loaders.writer import Row

if TYPE_CHECKING:
    import pandera.pandas as pa

Verdict = tuple[dict[int, tuple[Any, ...]], dict[int, str]]
"""What the schema said of a chunk's uncleared rows, by their index among them:
({index: stored values} for the rows that pass, {index: reason} for the rest)."""


class ValidColumns(NamedTuple):
    """The rows that passed, column by column, in their stored form."""

    event_id: list[str]
    user_id: list[str]
    event_type: list[str]
    occurred_at: list[datetime]
    properties_json: list[str]

    def rows(self, received_at: datetime) -> list[Row]:
        """Rows for `write_events`, all received at `received_at`."""
        return list(zip(*self, repeat(received_at), strict=False))

    def take(self, positions: list[int]) -> ValidColumns:
        columns: list[Any] = [list(map(column.__getitem__, positions)) for column in self]
        return ValidColumns(*columns)


@dataclass(slots=True)
class Cleared:
    """A chunk after the column forms: stored values (placeholders where unclear), and for the
    uncleared rows their positions, raw values, line numbers and texts."""

    source: str
    stored: ValidColumns
    positions: list[int]
    rows: list[tuple[Any, ...]]
    lines: list[int]
    texts: list[bytes | str]
    rejects: list[Reject]  # the reader's own

    def held_ids(self) -> set[str]:
        """The event_ids (stored form) the uncleared rows would have if they pass."""
        return {v.replace(NUL, REPLACEMENT) for v, *_ in self.rows if type(v) is str}


def clear_chunk(chunk: Chunk, now: datetime, max_future_skew: float) -> Cleared:
    """The column forms over one chunk."""
    cols = chunk.columns
    occurred_at, late = clear_timestamps(cols["occurred_at"], now, max_future_skew)
    properties, odd = clear_properties(cols["properties"])
    unclear = (
        clear_texts(cols["event_id"], MAX_EVENT_ID_CHARS)
        | clear_texts(cols["user_id"], MAX_TEXT_CHARS)
        | clear_texts(cols["event_type"], MAX_TEXT_CHARS)
        | late
        | odd
    )
    stored = ValidColumns(
        cols["event_id"], cols["user_id"], cols["event_type"], occurred_at, properties
    )
    positions = sorted(unclear)
    return Cleared(
        chunk.source,
        stored,
        positions,
        [tuple(cols[f][i] for f in FIELDS) for i in positions],
        [chunk.lines[i] for i in positions],
        [chunk.texts[i] for i in positions],
        list(chunk.rejects),
    )


def complete(
    cleared: Cleared, verdict: Verdict | None, rows: list[int] | None = None
) -> tuple[ValidColumns, list[Reject]]:
    """(the valid rows at `rows` (default: all) in file order, rejects in line order)."""
    rejects = cleared.rejects
    stored = cleared.stored
    failed: set[int] = set()
    if cleared.positions:
        assert verdict is not None
        passed, reasons = verdict
        columns: list[Any] = [list(column) for column in stored]  # passed rows' values go here
        for k, values in passed.items():
            for column, value in zip(columns, values, strict=True):
                column[cleared.positions[k]] = value
        stored = ValidColumns(*columns)
        failed = {cleared.positions[k] for k in reasons}
        rejects = rejects + [
            Reject(cleared.source, cleared.lines[k], original_text(cleared.texts[k]), reason)
            for k, reason in reasons.items()
        ]
        rejects.sort(key=lambda r: r.line)
    if rows is None and not failed:
        return stored, rejects
    every = range(len(stored.event_id)) if rows is None else rows
    return stored.take([i for i in every if i not in failed]), rejects


class ChunkValidator:
    """Validates chunks in this process; `now` is the load's received time."""

    def __init__(self, now: datetime, max_future_skew: float) -> None:
        self.now = now
        self.max_future_skew = max_future_skew
        self._schema: pa.DataFrameSchema | None = None

    @property
    def schema(self) -> pa.DataFrameSchema:
        """The pandera schema (built, and pandera imported, on first use)."""
        if self._schema is None:
            from loaders.schema import event_schema

            self._schema = event_schema(self.now, self.max_future_skew)
        return self._schema

    def judge(self, rows: list[tuple[Any, ...]]) -> Verdict:
        """The schema's verdict on raw rows (the five fields)."""
        from loaders.schema import judge

        columns = {f: [row[k] for row in rows] for k, f in enumerate(FIELDS)}
        return judge(self.schema, columns, list(range(len(rows))), self.now, self.max_future_skew)

    def validate(self, chunk: Chunk) -> tuple[ValidColumns, list[Reject]]:
        """(the valid rows in file order, rejects in line order, the reader's own included)."""
        cleared = clear_chunk(chunk, self.now, self.max_future_skew)
        return complete(cleared, self.judge(cleared.rows) if cleared.rows else None)
