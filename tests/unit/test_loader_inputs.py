"""History-loader inputs without a database: formats, line limits, CSV records, progress."""

from __future__ import annotations

import gc
import io
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
import structlog.testing

from core.events import EventError, check_occurred_at, check_properties
from loaders import sources
from loaders.progress import LogProgress
from loaders.readers import csv_chunks, jsonl_chunks
from loaders.schema import apply_rule
from loaders.sources import LoadError, OverlongLine, Source, detect_format, iter_lines
from loaders.validate import ChunkValidator


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jsonl", ("jsonl", False)),
        ("dir.v2/a.NDJSON.gz", ("jsonl", True)),
        ("a.csv.gz", ("csv", True)),
        ("a.json", (None, False)),
        ("a.gz", (None, True)),
        ("noext", (None, False)),
    ],
)
def test_format_from_extension(name: str, expected: tuple[str | None, bool]) -> None:
    assert detect_format(name) == expected


def test_unknown_extension_and_missing_file_fail_before_loading(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("{}\n")
    with pytest.raises(LoadError, match="use --format"):
        sources.resolve_sources([str(tmp_path / "a.txt")], None)
    assert sources.resolve_sources([str(tmp_path / "a.txt")], "jsonl")[0].format == "jsonl"
    with pytest.raises(LoadError, match="no such file"):
        sources.resolve_sources([str(tmp_path / "a.txt"), str(tmp_path / "b.csv")], "jsonl")
    with pytest.raises(LoadError, match="only once"):
        sources.resolve_sources(["-", "-"], "jsonl")


def test_overlong_line_is_cut_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 8)
    lines = list(iter_lines(io.BytesIO(b"short\n" + b"x" * 30 + b"\nnext\nlast")))
    assert lines == [b"short\n", b"x" * 8, b"next\n", b"last"]
    assert type(lines[1]) is OverlongLine


def chunks_of(reader: object, text: bytes, size: int = 100) -> list[object]:
    source = Source("mem", "csv", False, len(text))
    return list(reader(source, io.BytesIO(text), lambda: 0, size))  # type: ignore[operator]


def test_csv_records_keep_their_first_line_number_and_text() -> None:
    text = (
        b"user_id,event_id,occurred_at,event_type\r\n"
        b'u1,"multi\nline id",2024-01-01T00:00:00Z,click\r\n'
        b"\r\n"
        b"u2,e2,2024-01-01T00:00:00Z,\r\n"
    )
    [chunk] = chunks_of(csv_chunks, text)
    assert chunk.lines == [2, 5]  # type: ignore[attr-defined]
    assert chunk.texts[0] == 'u1,"multi\nline id",2024-01-01T00:00:00Z,click\r\n'  # type: ignore[attr-defined]
    assert chunk.columns["event_id"] == ["multi\nline id", "e2"]  # type: ignore[attr-defined]
    assert chunk.columns["event_type"] == ["click", None]  # type: ignore[attr-defined]
    assert chunk.columns["properties"] == [None, None]  # type: ignore[attr-defined]


def test_chunks_split_at_the_size_and_count_rejects_as_read() -> None:
    text = b"".join(
        b'{"event_id":"e%d","user_id":"u","event_type":"t","occurred_at":"2024-01-01T00:00:00Z"}\n'
        % i
        for i in range(5)
    )
    chunks = chunks_of(jsonl_chunks, text + b"[1]\n", size=2)
    assert [len(c.lines) for c in chunks] == [2, 2, 1]  # type: ignore[attr-defined]
    assert [c.read for c in chunks] == [2, 2, 2]  # type: ignore[attr-defined]


def test_schema_keeps_good_rows_and_names_the_first_broken_rule() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    text = (
        b'{"event_id":"ok","user_id":"u","event_type":"t","occurred_at":"2024-01-01T00:00:00Z"}\n'
        b'{"event_id":7,"user_id":"","event_type":"t","occurred_at":"bad"}\n'
    )
    [chunk] = chunks_of(jsonl_chunks, text)
    valid, rejects = ChunkValidator(now, 86400).validate(chunk)  # type: ignore[arg-type]
    rows = valid.rows(now)
    assert [r[0] for r in rows] == ["ok"]
    assert rows[0][3] == datetime(2024, 1, 1, tzinfo=UTC)
    assert rows[0][4] == "{}"
    assert rows[0][5] is now
    assert [(r.line, r.error) for r in rejects] == [(2, "event_id: must be a string, not number")]


# The kinds of bad row in a real export (issue 17), each with the start of its reason.
DIRTY_KINDS: list[tuple[dict[str, object], str]] = [
    ({"event_id": None}, "event_id: required"),
    ({"user_id": None}, "user_id: required"),
    ({"properties": {"blob": "x" * 33 * 1024}}, "properties: 33"),
    ({"occurred_at": "2024-01-01"}, "occurred_at: must be an RFC 3339 timestamp"),
    ({"occurred_at": "2023-02-30T10:00:00Z"}, "occurred_at: '2023-02-30T10:00:00Z' is not a valid"),
]


def dirty_text(rows: int, every: int) -> tuple[bytes, dict[int, str]]:
    """JSON Lines with one bad row (the kinds in turn) in `every`; (text, line -> reason)."""
    lines, bad = [], {}
    for i in range(rows):
        event = {"event_id": f"e{i}", "user_id": "u", "event_type": "t"}
        event |= {"occurred_at": "2024-01-01T00:00:00Z", "properties": {"i": i}}
        if i % every == 0:
            change, reason = DIRTY_KINDS[len(bad) % len(DIRTY_KINDS)]
            event |= change
            bad[i + 1] = reason
        lines.append(orjson.dumps(event))
    return b"\n".join(lines) + b"\n", bad


def test_bad_rows_leave_no_chunk_behind_in_memory() -> None:
    """A rejected value's error once kept its traceback, and through its frames every
    DataFrame of the chunk: memory grew with each dirty chunk (622 MB for 300k rows)."""
    now = datetime(2024, 6, 1, tzinfo=UTC)
    validator = ChunkValidator(now, 86400)
    text, bad = dirty_text(1500, every=7)
    rejected: dict[int, str] = {}
    for chunk in chunks_of(jsonl_chunks, text, size=500):
        valid, rejects = validator.validate(chunk)  # type: ignore[arg-type]
        rejected |= {r.line: r.error for r in rejects}
        assert len(valid.event_id) + len(rejects) == chunk.read  # type: ignore[attr-defined]
    del chunk, valid, rejects
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) == 500]
    assert sorted(rejected) == sorted(bad)
    assert all(rejected[line].startswith(reason) for line, reason in bad.items())


def test_rule_errors_are_kept_without_traceback_or_context() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    rule = partial(check_occurred_at, now=now, max_future_skew=86400)
    values = ["2024-01-01T00:00:00Z", "2023-02-30T10:00:00Z", None, "2024-01-02T00:00:00Z"]
    out = apply_rule(rule, values)
    assert out[0] == datetime(2024, 1, 1, tzinfo=UTC)
    assert out[3] == datetime(2024, 1, 2, tzinfo=UTC)
    errors = [v for v in out if isinstance(v, EventError)]
    assert [str(e) for e in errors] == [
        "occurred_at: '2023-02-30T10:00:00Z' is not a valid date and time",
        "occurred_at: required",
    ]
    assert all(e.__traceback__ is None and e.__context__ is None for e in errors)


def test_properties_shortcuts_match_the_full_rules() -> None:
    """The bracket-count and NUL-escape shortcuts in check_properties change no outcome."""
    assert check_properties({"s": "[[[[{{{{" * 10}) == '{"s":"' + "[[[[{{{{" * 10 + '"}'
    assert check_properties({"s": "\\u0000"}) == '{"s":"\\\\u0000"}'
    assert check_properties({"k\x00": "v\x00"}) == '{"k\ufffd":"v\ufffd"}'
    deep: dict[str, object] = {}
    for _ in range(400):  # deeper than orjson can encode: still reported as too deep
        deep = {"k": deep}
    with pytest.raises(EventError, match="nested deeper than 32"):
        check_properties(deep)


def test_log_progress_reports_rate_percent_and_eta() -> None:
    progress = LogProgress(total_bytes=1000, every=0)
    with structlog.testing.capture_logs() as logs:
        progress.update(rows=500, position=250)
    [entry] = logs
    assert entry["event"] == "load_progress"
    assert (entry["rows"], entry["bytes"], entry["percent"]) == (500, 250, 25.0)
    assert {"rows_per_s", "eta_s"} <= set(entry)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01T23:59:59.999999999Z",
        "2024-05-01T00:00:00.1Z",
        "2024-05-01T12:34:56.1234567Z",
        "2024-02-29T12:00:00Z",
        "2023-02-29T12:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:00:60Z",
        "\u0662\u0660\u0662\u0664-05-01T12:00:00Z",  # Arabic-Indic digits: the general path
    ],
)
def test_fast_zulu_timestamps_match_the_general_parser(text: str) -> None:
    """parse_timestamp's fast path (…Z) agrees with its general path (…+00:00) in every case."""
    from core.events import parse_timestamp

    def outcome(value: str) -> object:
        try:
            return parse_timestamp(value)
        except EventError as exc:
            return str(exc).replace("+00:00", "Z")

    fast, general = outcome(text), outcome(text.replace("Z", "+00:00"))
    assert fast == general
    if isinstance(fast, datetime):
        assert fast.utcoffset() is not None and not fast.utcoffset()


def _rule_outcome(rule: Any, value: Any) -> object:
    try:
        return rule(value)
    except EventError as exc:
        return exc


TEXT_VALUES: list[Any] = [
    "a", "e" * 128, "e" * 129, "", None, 17, True, ["a"], {"a": 1}, "a\x00b", "ü" * 128,
    "  spaced  ", "\ufffd", 1.5,
]  # fmt: skip
TIMESTAMP_VALUES: list[Any] = [
    "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5Z", "2024-05-01T23:59:59.999999999Z",
    "2024-05-01T12:34:56.1234567890Z", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z",
    "2024-05-01T12:00:00+02:00", "2024-05-01 12:00:00z", "2024-05-01T12:00:00", "2024-05-01",
    "2024-05-01T12:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", None, 1714564800,
    "\u0662\u0660\u0662\u0664-05-01T12:00:00Z", "2024-06-02T00:00:00Z", "2024-06-02T00:00:00.001Z",
    "2024-06-01T23:59:59.999Z", "2024-06-01T23:59:59.998Z", "2024-05-01t12:00:00Z",
]  # fmt: skip
PROPERTY_VALUES: list[Any] = [
    None, {}, {"a": 1}, {"s": "[[[[{{{{" * 10}, {"s": "\\u0000"}, {"k\x00": "v\x00"},
    {"blob": "x" * 32 * 1024}, {"blob": "x" * (32 * 1024 - 10)}, [1], "text", 3, True,
    {"n": 2**63}, {"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
    {"f": 1.5, "u": "ü", "e": "\U0001f600"}, {"u": "ü" * 16000}, {"u": "ü" * 16400},
]  # fmt: skip


@pytest.mark.parametrize("rows", [1, 7])
def test_column_forms_clear_only_what_the_rules_store_unchanged(rows: int) -> None:
    """Every value a column form clears gets exactly the stored form the per-value rule gives
    it; the common forms are cleared (the shortcut is taken); the rest are left to the rules."""
    from core.events import check_text, clear_properties, clear_texts, clear_timestamps

    now = datetime(2024, 6, 1, tzinfo=UTC)
    texts = TEXT_VALUES * rows
    unclear = clear_texts(texts, 128)
    for i, value in enumerate(texts):
        if i not in unclear:
            assert (
                _rule_outcome(partial(check_text, name="event_id", max_chars=128), value) == value
            )
    assert {TEXT_VALUES[i % len(TEXT_VALUES)] for i in range(len(texts)) if i not in unclear} == {
        "a", "e" * 128, "ü" * 128, "  spaced  ", "\ufffd"
    }  # fmt: skip
    stamps = TIMESTAMP_VALUES * rows
    parsed, unclear = clear_timestamps(stamps, now, 86400)
    for i, value in enumerate(stamps):
        if i not in unclear:
            assert _rule_outcome(lambda v: check_occurred_at(v, now, 86400), value) == parsed[i]
    assert "2024-05-01T12:00:00Z" not in {stamps[i] for i in unclear}
    assert "2024-06-01T23:59:59.998Z" not in {stamps[i] for i in unclear}
    props = PROPERTY_VALUES * rows
    encoded, unclear = clear_properties(props)
    for i, value in enumerate(props):
        if i not in unclear:
            assert _rule_outcome(check_properties, value) == encoded[i]
    cleared = {i % len(PROPERTY_VALUES) for i in range(len(props)) if i not in unclear}
    assert cleared >= {0, 1, 2, 14, 15}
    assert 16 not in cleared


def test_column_forms_of_a_clean_column_clear_it_whole() -> None:
    from core.events import clear_properties, clear_texts, clear_timestamps

    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert clear_texts(["a", "b"] * 100, 128) == set()
    parsed, unclear = clear_timestamps(["2024-05-01T12:00:00Z"] * 100, now, 86400)
    assert unclear == set() and parsed == [datetime(2024, 5, 1, 12, tzinfo=UTC)] * 100
    encoded, unclear = clear_properties([{"a": 1}, None] * 50)
    assert unclear == set() and encoded == ['{"a":1}', "{}"] * 50
    assert clear_texts([], 128) == set()
    assert clear_timestamps([], now, 86400) == ([], set())
    assert clear_properties([]) == ([], set())
