"""The rules of one event (docs/api.md#ingest), in one place for the API and the history loader.

`validate_event` takes one decoded JSON value and returns either a `ValidEvent` ready for
the raw writer or an error string that names the field and the rule.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from itertools import repeat
from operator import add
from typing import Any, NamedTuple

import orjson

MAX_EVENT_ID_CHARS = 128
MAX_TEXT_CHARS = 256
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_PROPERTIES_DEPTH = 32
REQUIRED_TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("event_id", MAX_EVENT_ID_CHARS),
    ("user_id", MAX_TEXT_CHARS),
    ("event_type", MAX_TEXT_CHARS),
)
NUL = "\x00"
REPLACEMENT = "\ufffd"
EMPTY: dict[str, Any] = {}  # shared, never changed

# YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]; a space may stand for T (RFC 3339 §5.6 note).
TIMESTAMP_PATTERN = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))?",
    re.ASCII,
)
INVALID_DATE = "invalid date"
TIMESTAMP_RULE = "must be an RFC 3339 timestamp such as 2024-05-01T12:30:00Z"
# The most common form, with in-range clock fields, for a fast path through the C parser.
# ASCII digits only, as in TIMESTAMP_PATTERN (`\d` would match other scripts' digits too).
ZULU_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?Z"
)


class ValidEvent(NamedTuple):
    """An event that passed every rule, normalised for storage."""

    event_id: str
    user_id: str
    event_type: str
    occurred_at: datetime  # timezone-aware, UTC, microsecond precision
    properties_json: str  # compact JSON text of the properties object


class EventError(ValueError):
    """One event broke one rule. `str()` reads `field: detail` (what the client sees);
    `field` and `rule` are the low-cardinality pair that metrics and the rejects tables use."""

    def __init__(self, field: str, rule: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.rule = rule

    @property
    def reason(self) -> str:
        """`field: rule`, never the offending value (a metric label)."""
        return f"{self.field}: {self.rule}"


def describe_skew(seconds: float) -> str:
    """`86400` -> `24h`, `90` -> `90s`: the limit as it appears in error messages."""
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def replace_nul(value: Any) -> Any:
    """A copy of a decoded JSON value with every U+0000 in strings and keys replaced."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, dict):
        return {replace_nul(k): replace_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_nul(v) for v in value]
    return value


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of objects and arrays (the outermost counts 1); stops early past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def parse_timestamp(text: str) -> datetime:
    """Parse the contract's timestamp form into an aware UTC datetime (fraction truncated to µs)."""
    if ZULU_TIMESTAMP.fullmatch(text):
        # Same result as the general path below (fraction truncated, UTC), several times faster.
        try:
            return datetime.fromisoformat(text)
        except ValueError:  # e.g. 2024-02-30
            raise EventError(
                "occurred_at", INVALID_DATE, f"{text!r} is not a valid date and time"
            ) from None
    match = TIMESTAMP_PATTERN.fullmatch(text)
    if match is None:
        raise EventError("occurred_at", "format", TIMESTAMP_RULE)
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = match.groups()
    micros = int(fraction[:6].ljust(6, "0")) if fraction else 0
    if sign is None:  # the common case: UTC already, no conversion needed
        try:
            return datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), micros, UTC
            )
        except (ValueError, OverflowError):
            raise EventError(
                "occurred_at", INVALID_DATE, f"{text!r} is not a valid date and time"
            ) from None
    hours, minutes = int(off_h), int(off_m)
    if hours > 23 or minutes > 59:
        raise EventError(
            "occurred_at", "offset out of range", f"offset {sign}{off_h}:{off_m} is out of range"
        )
    offset = timedelta(hours=hours, minutes=minutes)
    tz = timezone(-offset if sign == "-" else offset)
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        raise EventError(
            "occurred_at", INVALID_DATE, f"{text!r} is not a valid date and time"
        ) from None


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# One function per rule group, so the API (per event) and the loader's pandera schema
# (per column) run exactly the same code and produce exactly the same messages.


def check_object(event: Any) -> dict[str, Any]:
    """The event itself must be a JSON object."""
    if not isinstance(event, dict):
        raise EventError("event", "not an object", f"must be a JSON object, not {json_type(event)}")
    return event


def check_text(value: Any, name: str, max_chars: int) -> str:
    """A required string field (`None` = absent): 1..`max_chars` characters; NUL replaced."""
    if value is None:
        raise EventError(name, "required", "required")
    if not isinstance(value, str):
        raise EventError(name, "not a string", f"must be a string, not {json_type(value)}")
    if not 1 <= len(value) <= max_chars:
        raise EventError(name, "length", f"must be 1-{max_chars} characters (got {len(value)})")
    return value.replace(NUL, REPLACEMENT) if NUL in value else value


def check_occurred_at(value: Any, now: datetime, max_future_skew: float) -> datetime:
    """A required timestamp string, at most `max_future_skew` seconds after `now`; UTC.

    An aware datetime (never in JSON: the SDK capture routes pass the time they corrected for
    clock skew) skips the parse and meets the same future-skew rule."""
    if value is None:
        raise EventError("occurred_at", "required", "required")
    if isinstance(value, datetime) and value.tzinfo is not None:
        occurred_at = value.astimezone(UTC)
    elif not isinstance(value, str):
        raise EventError("occurred_at", "not a string", f"must be a string, not {json_type(value)}")
    else:
        occurred_at = parse_timestamp(value)
    if (occurred_at - now).total_seconds() > max_future_skew:
        raise EventError(
            "occurred_at",
            "in the future",
            f"more than {describe_skew(max_future_skew)} in the future",
        )
    return occurred_at


def _check_depth(props: dict[str, Any]) -> None:
    if json_depth(props, MAX_PROPERTIES_DEPTH) > MAX_PROPERTIES_DEPTH:
        raise EventError(
            "properties", "too deep", f"nested deeper than {MAX_PROPERTIES_DEPTH} levels"
        )


def check_properties(props: Any, may_contain_nul: bool = True) -> str:
    """An optional object (`None` = `{}`) within the depth and size limits; compact JSON text."""
    if props is None:
        return "{}"
    if not isinstance(props, dict):
        raise EventError(
            "properties", "not an object", f"must be a JSON object, not {json_type(props)}"
        )
    try:
        encoded = orjson.dumps(props)
    except orjson.JSONEncodeError as exc:
        _check_depth(props)  # too deep is reported before unstorable, whatever broke orjson
        raise EventError("properties", "not storable", f"cannot be stored ({exc})") from None
    # Each nested object or array adds a `{` or `[`, so few brackets prove shallow without a walk.
    if encoded.count(b"{") + encoded.count(b"[") > MAX_PROPERTIES_DEPTH:
        _check_depth(props)
    # orjson writes U+0000 as the escape `\u0000`: only then is the walk needed.
    if may_contain_nul and b"\\u0000" in encoded:
        encoded = orjson.dumps(replace_nul(props))
    if len(encoded) > MAX_PROPERTIES_BYTES:
        raise EventError(
            "properties",
            "too large",
            f"{len(encoded)} bytes is larger than {MAX_PROPERTIES_BYTES} bytes",
        )
    return encoded.decode()


def validate_event(
    event: Any,
    now: datetime,
    max_future_skew: float,
    *,
    may_contain_nul: bool = True,
) -> ValidEvent:
    """Check one decoded event against every rule; raise `EventError` naming the first broken one.

    `now` is when the event was received; `may_contain_nul=False` skips the walk that
    replaces U+0000 when the caller knows the raw text had no `\\u0000` escape.
    """
    get = check_object(event).get
    return ValidEvent(
        check_text(get("event_id"), "event_id", MAX_EVENT_ID_CHARS),
        check_text(get("user_id"), "user_id", MAX_TEXT_CHARS),
        check_text(get("event_type"), "event_type", MAX_TEXT_CHARS),
        check_occurred_at(get("occurred_at"), now, max_future_skew),
        check_properties(get("properties"), may_contain_nul),
    )


# Column forms of the rules, for the history loader: a few C-level passes over a whole column
# find the values that the rule above would return unchanged (or, for timestamps and
# properties, exactly as computed here by the same calls the rule makes). Each returns the
# stored forms and the positions it could not clear. It never rejects: an uncleared value is
# one the per-value rules must judge (the loader's pandera schema runs them), so a shortcut
# can only send a valid value the long way, never decide a row on its own.


def _resuming_map(
    func: Any, values: list[Any], errors: type[Exception], then: Any = None
) -> list[Any]:
    """`func` (then `then`) over `values` in one C-level pass resumed after each error; None
    where `func` raised. `then` takes each result as it comes (nothing else holds it)."""
    out: list[Any] = []
    remaining = iter(values)
    while True:
        try:
            out.extend(map(func, remaining) if then is None else map(then, map(func, remaining)))
            return out
        except errors:
            out.append(None)


def clear_texts(values: list[Any], max_chars: int) -> set[int]:
    """Positions whose value `check_text` might not return unchanged. Every other value is a
    `str` of 1..`max_chars` characters without NUL, which `check_text` returns as it is."""
    if set(map(type, values)) <= {str}:
        lengths = list(map(len, values))
        if (not lengths or (min(lengths) >= 1 and max(lengths) <= max_chars)) and (
            NUL not in "".join(values)
        ):
            return set()
    return {
        i
        for i, v in enumerate(values)
        if type(v) is not str or not 1 <= len(v) <= max_chars or NUL in v
    }


def clear_timestamps(
    values: list[Any], now: datetime, max_future_skew: float
) -> tuple[list[Any], set[int]]:
    """(`check_occurred_at`'s result for each cleared value (None where not parsed), positions
    not cleared).

    Cleared: a `str` in the `ZULU_TIMESTAMP` form that `datetime.fromisoformat` parses (the
    rule's own fast path) and that is at least 1 ms inside the future-skew limit (the rule
    compares float seconds: values near the limit are left to it)."""
    if not (set(map(type, values)) <= {str} and all(map(ZULU_TIMESTAMP.fullmatch, values))):
        # "" makes fromisoformat raise: the position is then left to the rule.
        values = [v if type(v) is str and ZULU_TIMESTAMP.fullmatch(v) else "" for v in values]
    parsed: list[Any] = _resuming_map(datetime.fromisoformat, values, ValueError)
    unclear = {i for i, p in enumerate(parsed) if p is None} if None in parsed else set()
    limit = now + timedelta(seconds=max_future_skew) - timedelta(milliseconds=1)
    dates = [p for p in parsed if p is not None] if unclear else parsed
    if dates and max(dates) > limit:
        unclear |= {i for i, p in enumerate(parsed) if p is not None and p > limit}
    return parsed, unclear


def clear_properties(values: list[Any]) -> tuple[list[str], set[int]]:
    """(`check_properties`'s result for each cleared value, positions not cleared).

    Cleared: `None` (`{}`), or an object that orjson encodes with at most `MAX_PROPERTIES_DEPTH`
    brackets (so no depth walk), no `\\u0000` escape (so no NUL replacement) and within
    `MAX_PROPERTIES_BYTES`: the rule then returns orjson's encoding as it is. The checks read
    the decoded text (each encoding is decoded at once: orjson's bytes keep spare room):
    brackets and escapes are ASCII, and a text of n characters has at most 4n UTF-8 bytes."""
    unclear: set[int] = set()
    if not set(map(type, values)) <= {dict, type(None)}:
        unclear = {i for i, v in enumerate(values) if v is not None and type(v) is not dict}
    objects = [EMPTY if v is None or i in unclear else v for i, v in enumerate(values)]
    texts: list[str] = _resuming_map(orjson.dumps, objects, orjson.JSONEncodeError, bytes.decode)
    if None in texts:  # orjson could not encode it (e.g. too deep): the rule says why
        unclear |= {i for i, t in enumerate(texts) if t is None}
        texts = ["{}" if t is None else t for t in texts]
    count: Any = str.count
    brackets = list(map(add, map(count, texts, repeat("{")), map(count, texts, repeat("["))))
    if brackets and max(brackets) > MAX_PROPERTIES_DEPTH:
        unclear |= {i for i, n in enumerate(brackets) if n > MAX_PROPERTIES_DEPTH}
    # Each encoding starts with `{` and ends with `}`: joining them forms no new escape.
    if "\\u0000" in "".join(texts):
        unclear |= {i for i, t in enumerate(texts) if "\\u0000" in t}
    lengths = list(map(len, texts))
    if lengths and max(lengths) > MAX_PROPERTIES_BYTES // 4:
        unclear |= {
            i
            for i, n in enumerate(lengths)
            if n > MAX_PROPERTIES_BYTES // 4 and len(texts[i].encode()) > MAX_PROPERTIES_BYTES
        }
    return texts, unclear
