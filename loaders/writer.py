"""The one raw writer: COPY a batch into a staging table, then INSERT … ON CONFLICT DO NOTHING.

The RQ ingest job and the history loader both land events only through `write_events`. It
holds the raw-write advisory lock (shared) from before the INSERT stamps `loaded_at` until it
commits: mart refreshes take that lock to know that no earlier-stamped row is still in flight,
so each model reads every raw row exactly once (dbt_project/macros/watermarks.sql).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from core.locks import RAW_WRITE_LOCK_ID
from core.sql_files import query

COPY_BATCH = "copy pg_temp.events_batch (event_id, user_id, event_type, occurred_at, properties, received_at) from stdin"  # noqa: E501
# Binary COPY skips text escaping and timestamp formatting on both sides: several times
# cheaper per row than text. `properties` is staged as text and cast to jsonb by the INSERT.
COPY_BATCH_BINARY = f"{COPY_BATCH} (format binary)"
BINARY_TYPES = ["text", "text", "text", "timestamptz", "text", "timestamptz"]

# (event_id, user_id, event_type, occurred_at, properties_json, received_at)
Row = tuple[str, str, str, datetime | str, str, datetime | str]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one `write_events` call did: rows offered, newly inserted, already stored."""

    rows: int
    inserted: int

    @property
    def duplicates(self) -> int:
        return self.rows - self.inserted


def first_copies(rows: Iterable[Row]) -> list[Row]:
    """Keep the first row of each event_id, in order (the first copy wins)."""
    seen: dict[str, Row] = {}
    for row in rows:
        seen.setdefault(row[0], row)
    return list(seen.values())


def _timestamps_are_aware_datetimes(rows: Sequence[Row]) -> bool:
    """Binary COPY needs both timestamps as aware datetimes (a queue payload carries text)."""
    for row in rows:
        occurred_at, received_at = row[3], row[5]
        if not (
            type(occurred_at) is datetime
            and occurred_at.tzinfo is not None
            and type(received_at) is datetime
            and received_at.tzinfo is not None
        ):
            return False
    return True


def write_events(conn: psycopg.Connection, rows: Sequence[Row]) -> WriteResult:
    """Land `rows` in raw.events exactly once, in one transaction; return the counts.

    Safe to call again with the same rows (a retried job): those become duplicates.
    """
    unique = first_copies(rows)
    binary = _timestamps_are_aware_datetimes(unique)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query("loaders", "create_batch_table"))
        with cur.copy(COPY_BATCH_BINARY if binary else COPY_BATCH) as copy:
            if binary:
                copy.set_types(BINARY_TYPES)
            write_row = copy.write_row
            for row in unique:
                write_row(row)
        # loaded_at is stamped by the INSERT (clock_timestamp()), after this lock is held
        cur.execute(query("loaders", "lock_raw_writes"), {"lock_id": RAW_WRITE_LOCK_ID})
        cur.execute(query("loaders", "write_events"))
        inserted = cur.rowcount
    return WriteResult(rows=len(rows), inserted=inserted)
