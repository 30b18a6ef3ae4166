"""One chunk's valid rows and rejects: the column forms of the rules, then the pandera schema.

The column forms (`core.events.clear_*`) run a few C-level passes over each column and clear
the values the rules would store unchanged; they never reject. The rows they cannot clear
(a bad row, or a valid one in a rarer form: a `+02:00` offset, deep properties) go to the
pandera schema of `loaders.schema`, which runs the per-value rules and decides. pandas and
pandera are imported the first time a chunk has such rows: a clean file never imports them.
"""

from __future__ import annotations

from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, Any, NamedTuple

from core.events import (
    MAX_EVENT_ID_CHARS,
    MAX_TEXT_CHARS,
    clear_properties,
    clear_texts,
    clear_timestamps,
)
from loaders.readers import Chunk, Reject, original_text
from loaders.writer import Row

if TYPE_CHECKING:
    import pandera.pandas as pa


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


def clear_columns(
    columns: dict[str, list[Any]], now: datetime, max_future_skew: float
) -> tuple[ValidColumns, list[int]]:
    """The column forms over one chunk's raw columns: (their stored values, with the raw value
    left where a row is unclear; the positions of the unclear rows, in order)."""
    occurred_at, late = clear_timestamps(columns["occurred_at"], now, max_future_skew)
    properties, odd = clear_properties(columns["properties"])
    unclear = (
        clear_texts(columns["event_id"], MAX_EVENT_ID_CHARS)
        | clear_texts(columns["user_id"], MAX_TEXT_CHARS)
        | clear_texts(columns["event_type"], MAX_TEXT_CHARS)
        | late
        | odd
    )
    stored = ValidColumns(
        columns["event_id"], columns["user_id"], columns["event_type"], occurred_at, properties
    )
    return stored, sorted(unclear)


class ChunkValidator:
    """Validates chunks; `now` is the load's received time (the future-skew origin)."""

    def __init__(self, now: datetime, max_future_skew: float) -> None:
        self.now = now
        self.max_future_skew = max_future_skew
        self._schema: pa.DataFrameSchema | None = None

    @property
    def schema(self) -> pa.DataFrameSchema:
        """The pandera schema (built, and pandas/pandera imported, on first use)."""
        if self._schema is None:
            from loaders.schema import event_schema

            self._schema = event_schema(self.now, self.max_future_skew)
        return self._schema

    def validate(self, chunk: Chunk) -> tuple[ValidColumns, list[Reject]]:
        """(the valid rows in file order, rejects in line order, the reader's own included)."""
        stored, unclear = clear_columns(chunk.columns, self.now, self.max_future_skew)
        rejects = list(chunk.rejects)
        if not unclear:
            return stored, rejects
        from loaders.schema import judge

        passed, reasons = judge(self.schema, chunk.columns, unclear, self.now, self.max_future_skew)
        columns: list[list[Any]] = [list(column) for column in stored]
        for i, values in passed.items():
            for column, value in zip(columns, values, strict=True):
                column[i] = value
        if not reasons:
            return ValidColumns(*columns), rejects
        rejects += [
            Reject(chunk.source, chunk.lines[i], original_text(chunk.texts[i]), reason)
            for i, reason in reasons.items()
        ]
        rejects.sort(key=lambda r: r.line)
        every = range(len(stored.event_id))
        return ValidColumns(*columns).take([i for i in every if i not in reasons]), rejects
