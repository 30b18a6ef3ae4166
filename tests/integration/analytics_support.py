"""An independent model of /stats/active-users, the event-type filters of /stats/dau and the
start/return-event retention (docs/api.md#read-api), in plain Python.

Local dates come from zoneinfo (`ZoneInfo(tz)`), distinct users from sets, windows from
scanning the days of each window: nothing here shares the marts' day-gap arithmetic. The
first stored copy of each event_id wins, as in raw.events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from fractions import Fraction
from math import floor
from typing import Any
from zoneinfo import ZoneInfo

from tests.integration.marts_support import Event


def rounded(numerator: int, denominator: int) -> float:
    """numerator/denominator rounded half away from zero to 4 places (both non-negative)."""
    scaled = Fraction(numerator, denominator) * 10000
    return float(Fraction(floor(scaled + Fraction(1, 2)), 10000))


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


class Activity:
    """Who did what on which local day of zone `tz`, from the events as loaded."""

    def __init__(self, loaded: Iterable[Event], tz: str) -> None:
        zone = ZoneInfo(tz)
        stored: dict[str, Event] = {}
        for event in loaded:
            stored.setdefault(event.event_id, event)
        # event type -> local day -> users; (event type, day) -> events
        self.by_type: dict[str, dict[date, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.events: dict[tuple[str, date], int] = defaultdict(int)
        for event in stored.values():
            day = event.utc().astimezone(zone).date()
            self.by_type[event.event_type][day].add(event.user_id)
            self.events[(event.event_type, day)] += 1
        self.latest = max(day for _, day in self.events)
        self.earliest = min(day for _, day in self.events)

    def users_on(self, types: Iterable[str] | None) -> dict[date, set[str]]:
        """Local day -> users with an event of one of `types` (None: of any type) that day."""
        chosen = self.by_type.keys() if types is None else types
        out: dict[date, set[str]] = defaultdict(set)
        for kind in chosen:
            for day, who in self.by_type.get(kind, {}).items():
                out[day] |= who
        return out

    def active_users(
        self, window: int, start: date, end: date, types: list[str] | None = None
    ) -> list[dict[str, Any]]:
        on = self.users_on(types)

        def reach(day: date, width: int) -> int:
            seen: set[str] = set()
            for back in range(width):
                seen |= on.get(day - timedelta(days=back), set())
            return len(seen)

        rows = []
        for day in days(start, end):
            dau, mau = reach(day, 1), reach(day, 30)
            rows.append(
                {
                    "date": day.isoformat(),
                    "active_users": reach(day, window),
                    "dau": dau,
                    "mau": mau,
                    "stickiness": None if mau == 0 else rounded(dau, mau),
                }
            )
        return rows

    def dau(self, start: date, end: date, types: list[str] | None = None) -> list[dict[str, Any]]:
        on = self.users_on(types)
        chosen = set(self.by_type) if types is None else set(types)
        return [
            {
                "date": day.isoformat(),
                "active_users": len(on.get(day, ())),
                "events": sum(self.events.get((kind, day), 0) for kind in chosen),
            }
            for day in days(start, end)
        ]

    def retention(
        self,
        start: date,
        end: date,
        period: str,
        periods: int,
        start_event: str | None = None,
        return_event: str | None = None,
    ) -> list[dict[str, Any]]:
        """First-time retention: cohort = the period of the user's first start_event (first
        event of any type when None); retained[0] = size; retained[k] = the cohort's users
        with a return_event (any event when None) in period cohort + k."""
        weekly = period == "week"

        def bucket(day: date) -> date:
            return monday(day) if weekly else day

        step = 7 if weekly else 1
        first: dict[str, date] = {}
        for day, who in self.users_on(None if start_event is None else [start_event]).items():
            for user in who:
                if user not in first or day < first[user]:
                    first[user] = day
        returning: dict[date, set[str]] = defaultdict(set)  # period start -> users
        ret_types = None if return_event is None else [return_event]
        for day, who in self.users_on(ret_types).items():
            returning[bucket(day)] |= who
        cohorts: dict[date, set[str]] = defaultdict(set)
        for user, day in first.items():
            cohorts[bucket(day)].add(user)

        def retained(members: set[str], cohort: date) -> list[int | None]:
            later = (cohort + timedelta(days=k * step) for k in range(1, periods + 1))
            return [len(members)] + [
                None if begins > self.latest else len(members & returning.get(begins, set()))
                for begins in later
            ]

        answer = []
        for cohort in sorted(c for c in cohorts if bucket(start) <= c <= bucket(end)):
            size, counts = len(cohorts[cohort]), retained(cohorts[cohort], cohort)
            rates = [None if count is None else rounded(count, size) for count in counts]
            answer.append(
                {"cohort": cohort.isoformat(), "size": size, "retained": counts, "rate": rates}
            )
        return answer
