"""Helpers for the mart tests: a generated event history and an independent model of the
read API (docs/api.md#read-api).

The expected numbers are computed here in plain Python from the generated input (first
stored copy of each event_id wins), never from what the service produced.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from math import floor
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi.testclient import TestClient

from core.settings import Settings
from jobs.refresh import refresh_marts
from loaders.writer import write_events

MART_SCHEMAS = ("staging", "intermediate", "marts")
BOOKKEEPING_COLUMNS = {"updated_at"}  # when a row was last rewritten
MART_TABLES = (
    "intermediate.int_user_days",
    "intermediate.int_user_event_type_days",
    "intermediate.int_user_first_seen",
    "marts.fct_daily_active_users",
    "marts.fct_daily_event_types",
    "marts.fct_event_type_reach",
    "marts.fct_retention_daily",
    "marts.fct_retention_weekly",
)


@dataclass(frozen=True)
class Event:
    event_id: str
    user_id: str
    event_type: str
    occurred_at: str  # as a producer would send it (offsets, fractions)

    def utc(self) -> datetime:
        return datetime.fromisoformat(self.occurred_at.replace("Z", "+00:00")).astimezone(UTC)

    def row(self) -> tuple[str, str, str, datetime, str, datetime]:
        return (self.event_id, self.user_id, self.event_type, self.utc(), "{}", datetime.now(UTC))


def drop_marts(conn: psycopg.Connection) -> None:
    for schema in MART_SCHEMAS:
        conn.execute(f"drop schema if exists {schema} cascade")


def write(conn: psycopg.Connection, events: list[Event]) -> None:
    for start in range(0, len(events), 5000):
        write_events(conn, [e.row() for e in events[start : start + 5000]])


def snapshot(conn: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every intermediate model and mart, sorted."""
    tables = {}
    for table in MART_TABLES:
        cursor = conn.execute(f"select * from {table}")
        names = [column.name for column in cursor.description or []]
        keep = [i for i, name in enumerate(names) if name not in BOOKKEEPING_COLUMNS]
        rows = [tuple(row[i] for i in keep) for row in cursor.fetchall()]
        tables[table] = sorted(rows, key=repr)
    return tables


def refresh(settings: Settings, *, full_refresh: bool = False) -> None:
    result = refresh_marts(settings, full_refresh=full_refresh)
    assert result.success, result.errors


def data(client: TestClient, url: str) -> list[dict[str, Any]]:
    reply = client.get(url)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return list(body["data"])


def check_api(client: TestClient, expected: Expected, tz: str | None = None) -> None:
    """The read API's answers (for zone `tz`, or the default one) over several ranges equal
    the independent model's."""
    zone = "" if tz is None else f"&tz={tz}"
    first, last = expected.earliest, expected.latest
    middle = (first + timedelta(days=17), first + timedelta(days=41))
    assert data(client, f"/stats/dau?{zone[1:]}") == expected.dau(last - timedelta(days=29), last)
    assert data(client, f"/stats/dau?from={first}&to={last}{zone}") == expected.dau(first, last)
    for start, end in [(first, last), middle, (middle[0], middle[0]), (last, last)]:
        for limit in (1000, 3):
            got = data(client, f"/stats/top-events?from={start}&to={end}&limit={limit}{zone}")
            assert got == expected.top_events(start, end, limit), (start, end, limit, tz)
    for period, periods in [("day", 10), ("day", 0), ("week", 4)]:
        for start, end in [(first, last), middle]:
            url = f"/stats/retention?from={start}&to={end}&period={period}&periods={periods}"
            got = data(client, url + zone)
            assert got == expected.retention(start, end, period, periods), (url, tz)


# --- the generated history ------------------------------------------------------------------

FIRST_DAY = date(2026, 3, 2)  # a Monday
DAYS = 64
TYPES = ["page_view"] * 8 + ["click"] * 4 + ["signup", "purchase", "Zebra", "ärger", "_hidden"]


def _stamp(rng: random.Random, day: date) -> str:
    """A timestamp on `day` (UTC) written the way a producer might: Z, offsets, fractions."""
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(86400), microseconds=rng.randrange(1_000_000)
    )
    style = rng.random()
    if style < 0.6:
        return moment.isoformat().replace("+00:00", "Z")
    # the same instant in another zone: often on another local date than the UTC one
    offset = timedelta(minutes=rng.choice([-600, -300, -210, 60, 330, 540, 765]))
    return moment.astimezone(timezone(offset)).isoformat()


def generate_history(seed: int = 4) -> list[list[Event]]:
    """Four slices (load order) of ≥ 50k events over 64 days, with every awkward case."""
    rng = random.Random(seed)
    users = [f"user-{i:04d}" for i in range(1800)]
    events: list[tuple[date, Event]] = []
    n = 0

    def add(user: str, day: date, stamp: str | None = None, kind: str | None = None) -> Event:
        nonlocal n
        n += 1
        event = Event(f"ev-{n:06d}", user, kind or rng.choice(TYPES), stamp or _stamp(rng, day))
        events.append((day, event))
        return event

    for user in users:
        start = rng.randrange(DAYS)
        span = rng.randrange(1, 30)
        for _ in range(rng.randrange(5, 55)):
            add(user, FIRST_DAY + timedelta(days=min(DAYS - 1, start + rng.randrange(span))))
    # the edges of UTC days, and offsets that move the UTC date
    edge_day = FIRST_DAY + timedelta(days=20)
    add("edge-a", edge_day, f"{edge_day}T23:59:59.999Z", "edge")
    add("edge-a", edge_day, f"{edge_day + timedelta(days=1)}T00:00:00Z", "edge")
    add("edge-b", edge_day, f"{edge_day}T00:00:00.000000+00:00", "edge")
    add("edge-b", edge_day, f"{edge_day}T23:30:00-05:00", "edge")  # next UTC day
    add("edge-c", edge_day, f"{edge_day}T01:00:00+09:00", "edge")  # previous UTC day
    # exact ties for the top-events ordering (code point order: "Tie", "tie", "tié")
    for kind in ("tié", "tie", "Tie"):
        for i in range(3):
            add(f"tie-user-{i}", edge_day, kind=kind)

    # slices by occurrence: mostly in order, a tenth of them late (in a later slice)
    slices: list[list[Event]] = [[], [], [], []]
    for day, event in events:
        position = min(3, (day - FIRST_DAY).days * 4 // DAYS)
        if rng.random() < 0.1:
            position = rng.randrange(position, 4)
        slices[position].append(event)
    # users whose earliest event arrives after later ones
    for i in range(40):
        user = f"late-starter-{i}"
        late_day = FIRST_DAY + timedelta(days=45 + i % 15)
        early_day = FIRST_DAY + timedelta(days=5 + i % 30)
        for k in range(3):
            slices[1].append(Event(f"ls-{i}-{k}", user, "page_view", _stamp(rng, late_day)))
        slices[3 if i % 2 else 2].append(
            Event(f"ls-{i}-early", user, "signup", _stamp(rng, early_day))
        )
    # duplicates: re-sent later with other contents; the first stored copy wins
    for k in (1, 2, 3):
        for event in rng.sample(slices[k - 1], 400):
            slices[k].append(Event(event.event_id, "impostor", "impostor", event.occurred_at))
        slices[k].extend(rng.sample(slices[k], 200))  # and duplicates within one slice
    for part in slices:
        rng.shuffle(part)
    return slices


# --- the independent model of the read API (docs/api.md#read-api) --------------------------


class Expected:
    """Answers of the read API computed directly from the stored events, for the local
    calendar of zone `tz` (Python's zoneinfo decides each event's day; weeks from Monday)."""

    def __init__(self, loaded: list[Event], tz: str = "UTC") -> None:
        stored: dict[str, Event] = {}
        for event in loaded:
            stored.setdefault(event.event_id, event)
        zone = ZoneInfo(tz)
        self.user_days: dict[date, set[str]] = defaultdict(set)
        self.day_events: dict[date, int] = defaultdict(int)
        self.type_days: dict[tuple[str, date], list[str]] = defaultdict(list)
        first: dict[str, date] = {}
        for event in stored.values():
            day = event.utc().astimezone(zone).date()
            self.user_days[day].add(event.user_id)
            self.day_events[day] += 1
            self.type_days[(event.event_type, day)].append(event.user_id)
            if event.user_id not in first or day < first[event.user_id]:
                first[event.user_id] = day
        self.first_day = first
        self.latest = max(self.day_events)
        self.earliest = min(self.day_events)

    def dau(self, start: date, end: date) -> list[dict[str, Any]]:
        rows = []
        day = start
        while day <= end:
            rows.append(
                {
                    "date": day.isoformat(),
                    "active_users": len(self.user_days.get(day, ())),
                    "events": self.day_events.get(day, 0),
                }
            )
            day += timedelta(days=1)
        return rows

    def top_events(self, start: date, end: date, limit: int) -> list[dict[str, Any]]:
        events: dict[str, int] = defaultdict(int)
        users: dict[str, set[str]] = defaultdict(set)
        for (kind, day), who in self.type_days.items():
            if start <= day <= end:
                events[kind] += len(who)
                users[kind].update(who)
        ordered = sorted(events, key=lambda kind: (-events[kind], [ord(c) for c in kind]))
        return [
            {"event_type": kind, "events": events[kind], "users": len(users[kind])}
            for kind in ordered[:limit]
        ]

    def retention(self, start: date, end: date, period: str, periods: int) -> list[dict[str, Any]]:
        def bucket(day: date) -> date:
            return day - timedelta(days=day.weekday()) if period == "week" else day

        step = 7 if period == "week" else 1
        active: dict[date, set[str]] = defaultdict(set)  # period start -> users
        for day, who in self.user_days.items():
            active[bucket(day)].update(who)
        cohorts: dict[date, set[str]] = defaultdict(set)
        for user, day in self.first_day.items():
            cohorts[bucket(day)].add(user)
        rows = []
        for cohort in sorted(c for c in cohorts if bucket(start) <= c <= bucket(end)):
            members = cohorts[cohort]
            retained: list[int | None] = []
            rates: list[float | None] = []
            for k in range(periods + 1):
                begins = cohort + timedelta(days=k * step)
                if begins > self.latest:
                    retained.append(None)
                    rates.append(None)
                    continue
                count = len(members & active.get(begins, set()))
                retained.append(count)
                scaled = Fraction(count, len(members)) * 10000
                rates.append(float(Fraction(floor(scaled + Fraction(1, 2)), 10000)))
            rows.append(
                {
                    "cohort": cohort.isoformat(),
                    "size": len(members),
                    "retained": retained,
                    "rate": rates,
                }
            )
        return rows
