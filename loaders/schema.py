"""The pandera schema for a chunk of history rows: the event rules (docs/api.md#ingest),
from `core.events` itself.

Each column's parser runs the same per-field rule function the API runs
(`check_text`, `check_occurred_at`, `check_properties`), turning each raw value into its
stored form or into the `EventError` that rejects it; each column's check then fails the
rows holding an error, and the schema drops them. The reason reported for a dropped row is
`validate_event`'s message for it — the exact text `POST /events` would answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from core.events import (
    MAX_EVENT_ID_CHARS,
    MAX_TEXT_CHARS,
    EventError,
    check_occurred_at,
    check_properties,
    check_text,
    validate_event,
)
from loaders.readers import FIELDS


def apply_rule(rule: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """Each value through `rule`: its stored form, or the `EventError` that rejects it.

    One C-level pass (`map`), resumed after each error, so a bad row costs one exception.
    Each error is kept without its traceback and the exception it replaced (`raise … from
    None` still records it): either holds every frame up to here, and with them the chunk's
    DataFrames, for as long as the error lives.
    """
    out: list[Any] = []
    remaining = iter(values)
    while True:
        try:
            out.extend(map(rule, remaining))  # keeps what it got before an error
            return out
        except EventError as exc:
            exc.__context__ = exc.__cause__ = None
            out.append(exc.with_traceback(None))


def _text_rule(name: str, max_chars: int) -> Callable[[Any], str]:
    """`check_text` for one field, its arguments bound by position (a `partial` with keyword
    arguments builds a dict on every call: twice the cost per value)."""

    def rule(value: Any) -> str:
        return check_text(value, name, max_chars)

    return rule


def _rule_parser(rule: Callable[[Any], Any], name: str) -> pa.Parser:
    """A parser mapping each value through `rule` (see `apply_rule`)."""

    def parse(series: pd.Series) -> pd.Series:
        return pd.Series(apply_rule(rule, series.tolist()), index=series.index, dtype=object)

    return pa.Parser(parse, name=name)


def _passed(series: pd.Series) -> pd.Series:
    """True where the parser produced a value, False where it produced an `EventError`."""
    ok = [type(v) is not EventError for v in series.tolist()]
    return pd.Series(np.array(ok, dtype=bool), index=series.index)


PASSED = pa.Check(_passed, name="event_rule", error="breaks an event rule (docs/api.md#ingest)")


def event_schema(now: datetime, max_future_skew: float) -> pa.DataFrameSchema:
    """The schema of one chunk; `now` is the load's received time (the future-skew origin)."""

    def column(rule: Callable[[Any], Any], description: str) -> pa.Column:
        # nullable: an absent field arrives as None and its rule says "required" or "{}".
        return pa.Column(
            object,
            parsers=_rule_parser(rule, description),
            checks=PASSED,
            nullable=True,
            description=description,
        )

    return pa.DataFrameSchema(
        {
            "event_id": column(
                _text_rule("event_id", MAX_EVENT_ID_CHARS),
                f"string, 1-{MAX_EVENT_ID_CHARS} characters",
            ),
            "user_id": column(
                _text_rule("user_id", MAX_TEXT_CHARS),
                f"string, 1-{MAX_TEXT_CHARS} characters",
            ),
            "event_type": column(
                _text_rule("event_type", MAX_TEXT_CHARS),
                f"string, 1-{MAX_TEXT_CHARS} characters",
            ),
            "occurred_at": column(
                lambda value: check_occurred_at(value, now, max_future_skew),
                "RFC 3339 timestamp, not too far in the future",
            ),
            "properties": column(check_properties, "JSON object within the size/depth limits"),
        },
        strict=True,
        ordered=True,
        drop_invalid_rows=True,
        name="history_events",
    )


def judge(
    schema: pa.DataFrameSchema,
    columns: dict[str, list[Any]],
    positions: list[int],
    received_at: datetime,
    max_future_skew: float,
) -> tuple[dict[int, tuple[Any, ...]], dict[int, str]]:
    """The schema over the rows at `positions` of `columns` (raw values by field):
    ({position: the row's stored values} for rows that pass, {position: reason} for the rest).
    """
    frame = pd.DataFrame(
        {
            f: pd.Series([columns[f][i] for i in positions], index=positions, dtype=object)
            for f in FIELDS
        }
    )
    valid = schema.validate(frame, lazy=True)
    passed = {
        position: values
        for position, values in zip(
            valid.index.tolist(),
            zip(*(valid[f].tolist() for f in FIELDS), strict=True),
            strict=True,
        )
    }
    failed = {
        i: _reason({f: columns[f][i] for f in FIELDS}, received_at, max_future_skew)
        for i in positions
        if i not in passed
    }
    return passed, failed


def _reason(event: dict[str, Any], received_at: datetime, max_future_skew: float) -> str:
    """The API's message for a row the schema dropped (the first rule it breaks)."""
    try:
        validate_event(event, received_at, max_future_skew)
    except EventError as exc:
        return str(exc)
    return "event: rejected by the schema"  # unreachable while both use core.events
