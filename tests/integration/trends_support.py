"""Helpers for the /stats/trends tests: events with properties, and an independent model of
the endpoint (docs/api.md#trends) in plain Python: zoneinfo for the local dates, the value
rules written out again (PostgreSQL's jsonb text for numbers, booleans, objects and arrays).

The expected rows are computed here from the generated input (first stored copy of each
event_id wins), never from what the service produced.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from loaders.writer import write_events

TREND_TABLES = ("intermediate.int_user_property_days", "marts.fct_daily_property_values")
VALUE_LENGTH = 200
TOP = 10


@dataclass(frozen=True)
class PropEvent:
    event_id: str
    user_id: str
    event_type: str
    occurred_at: str  # as a producer would send it (offsets, fractions)
    properties: dict[str, Any] = field(default_factory=dict)

    def utc(self) -> datetime:
        return datetime.fromisoformat(self.occurred_at.replace("Z", "+00:00")).astimezone(UTC)

    def row(self) -> tuple[str, str, str, datetime, str, datetime]:
        props = json.dumps(self.properties)
        return (self.event_id, self.user_id, self.event_type, self.utc(), props, datetime.now(UTC))


def write_prop_events(conn: psycopg.Connection, events: list[PropEvent]) -> None:
    for start in range(0, len(events), 5000):
        write_events(conn, [e.row() for e in events[start : start + 5000]])


def snapshot_trends(conn: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the breakdown models, sorted."""
    return {
        table: sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)
        for table in TREND_TABLES
    }


# --- the value rules, independently -----------------------------------------------------------


def jsonb_text(value: Any) -> str:
    """PostgreSQL's text of a jsonb value: object keys by byte length then bytes, `, ` and
    `: ` separators, strings escaped as JSON (non-ASCII kept)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # the generated floats are written the same way
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
    return "{" + ", ".join(f"{jsonb_text(key)}: {jsonb_text(value[key])}" for key in keys) + "}"


def breakdown_value(properties: dict[str, Any], name: str) -> str | None:
    """The value of property `name` as /stats/trends reports it; None: the `$none` row."""
    value = properties.get(name)
    if value is None:
        return None
    text = value if isinstance(value, str) else jsonb_text(value)
    return text[:VALUE_LENGTH]


def code_points(text: str) -> list[int]:
    return [ord(c) for c in text]


class TrendsExpected:
    """Answers of /stats/trends computed directly from the stored events."""

    def __init__(self, loaded: list[PropEvent]) -> None:
        stored: dict[str, PropEvent] = {}
        for event in loaded:
            stored.setdefault(event.event_id, event)
        self.events = list(stored.values())

    def latest(self, tz: str) -> date:
        zone = ZoneInfo(tz)
        return max(event.utc().astimezone(zone).date() for event in self.events)

    def trends(
        self, tz: str, event_type: str, prop: str, start: date, end: date
    ) -> tuple[list[str], list[dict[str, Any]]]:
        zone = ZoneInfo(tz)
        events: dict[tuple[date, str | None], int] = defaultdict(int)
        users: dict[tuple[date, str | None], set[str]] = defaultdict(set)
        totals: dict[str, int] = defaultdict(int)
        for event in self.events:
            day = event.utc().astimezone(zone).date()
            if event.event_type != event_type or not start <= day <= end:
                continue
            value = breakdown_value(event.properties, prop)
            events[(day, value)] += 1
            users[(day, value)].add(event.user_id)
            if value is not None:
                totals[value] += 1
        top = sorted(totals, key=lambda v: (-totals[v], code_points(v)))[:TOP]
        rows: list[dict[str, Any]] = []
        day = start
        while day <= end:
            for value in top:
                rows.append(
                    {
                        "date": day.isoformat(),
                        "bucket": "value",
                        "value": value,
                        "events": events.get((day, value), 0),
                        "users": len(users.get((day, value), ())),
                    }
                )
            others = [v for v in totals if v not in top]
            other_users: set[str] = set()
            for value in others:
                other_users |= users.get((day, value), set())
            rows.append(
                {
                    "date": day.isoformat(),
                    "bucket": "other",
                    "value": "$other",
                    "events": sum(events.get((day, v), 0) for v in others),
                    "users": len(other_users),
                }
            )
            rows.append(
                {
                    "date": day.isoformat(),
                    "bucket": "none",
                    "value": "$none",
                    "events": events.get((day, None), 0),
                    "users": len(users.get((day, None), ())),
                }
            )
            day += timedelta(days=1)
        return top, rows


# --- the generated history -----------------------------------------------------------------

FIRST_DAY = date(2026, 3, 2)  # the US switches to summer time on 2026-03-08
DAYS = 36
TIE_DAY = FIRST_DAY + timedelta(days=12)
LATE_STAR = "/late-star"
LONG_PREFIX = "L" * VALUE_LENGTH
PATHS: list[Any] = [
    "/",
    "/pricing",
    "/docs",
    "/blog",
    "$other",  # real values spelled like the synthetic rows
    "$none",
    12,
    1.5,
    True,
    {"b": 1, "aa": [1, "x"], "ü": None},
    [3, "two", {"k": False}],
    LONG_PREFIX + "-one",  # two long values equal in their first 200 characters
    LONG_PREFIX + "-two",
    "ärger",
    "Zebra",
    "zebra",
    "",
]
PATH_WEIGHTS = [1 / (rank + 1) ** 0.7 for rank in range(len(PATHS))]
SOURCES = ["google", "newsletter", "twitter", "ads"]
BROWSERS = ["Firefox", "Chrome", "Safari"]
TYPES = ["page_view"] * 6 + ["click"] * 3 + ["signup"]


def _stamp(rng: random.Random, day: date, hour: int | None = None) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(86400) if hour is None else hour * 3600 + rng.randrange(3600),
        microseconds=rng.randrange(1_000_000),
    )
    if rng.random() < 0.6:
        return moment.isoformat().replace("+00:00", "Z")
    offset = timedelta(minutes=rng.choice([-600, -300, -240, 60, 330, 540]))
    return moment.astimezone(timezone(offset)).isoformat()


def _properties(rng: random.Random) -> dict[str, Any]:
    props: dict[str, Any] = {"session": f"s-{rng.randrange(10**6)}"}
    roll = rng.random()
    if roll < 0.85:
        props["path"] = rng.choices(PATHS, weights=PATH_WEIGHTS)[0]
    elif roll < 0.92:
        props["path"] = None  # JSON null: no value
    if rng.random() < 0.5:
        props["utm_source"] = rng.choice(SOURCES)
    props["$browser"] = rng.choice(BROWSERS)
    return props


def generate_trend_history(seed: int = 18) -> list[list[PropEvent]]:
    """Three slices (load order) of events over 36 days: late events, duplicates with other
    contents, a value that only enters the top ten with the last slice, exact ties."""
    rng = random.Random(seed)
    events: list[tuple[date, PropEvent]] = []
    n = 0

    def add(
        user: str, day: date, kind: str, props: dict[str, Any], hour: int | None = None
    ) -> None:
        nonlocal n
        n += 1
        events.append((day, PropEvent(f"tr-{n:06d}", user, kind, _stamp(rng, day, hour), props)))

    for i in range(400):
        user = f"user-{i:04d}"
        start = rng.randrange(DAYS)
        for _ in range(rng.randrange(4, 40)):
            day = FIRST_DAY + timedelta(days=min(DAYS - 1, start + rng.randrange(12)))
            add(user, day, rng.choice(TYPES), _properties(rng))
    # around midnight in New York and UTC (a different local date in each zone)
    for i in range(200):
        day = FIRST_DAY + timedelta(days=i % DAYS)
        add(f"night-{i % 30}", day, "page_view", _properties(rng), hour=rng.choice([0, 4, 23]))
    # exact ties on one day: same events, order by code point ("Tie" < "tie" < "tié")
    for value in ("tié", "tie", "Tie"):
        for k in range(120):
            add(f"tie-{k % 7}", TIE_DAY, "page_view", {"path": value}, hour=12)

    slices: list[list[PropEvent]] = [[], [], []]
    for day, event in events:
        position = min(2, (day - FIRST_DAY).days * 3 // DAYS)
        if rng.random() < 0.1:
            position = rng.randrange(position, 3)
        slices[position].append(event)
    # a value that enters the top ten late: only in the last slice, on early days
    for k in range(900):
        day = FIRST_DAY + timedelta(days=k % 10)
        slices[2].append(
            PropEvent(
                f"star-{k}",
                f"star-user-{k % 50}",
                "page_view",
                _stamp(rng, day),
                {"path": LATE_STAR},
            )
        )
    # duplicates: re-sent later with other contents; the first stored copy wins
    for k in (1, 2):
        for event in rng.sample(slices[k - 1], 300):
            other = PropEvent(event.event_id, "impostor", event.event_type, event.occurred_at)
            slices[k].append(other)
        slices[k].extend(rng.sample(slices[k], 100))
    for part in slices:
        rng.shuffle(part)
    return slices
