"""Known events for the dashboard tests, and what a person sees on the page, read from it.

Expected numbers come from `Expected` (plain Python over the known events), never from the
service; the tests also check that /stats answers the same for the range on the page.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
from playwright.sync_api import Page

from tests.conftest import REPO_ROOT
from tests.integration.analytics_support import Activity
from tests.integration.marts_support import Event, Expected

ARTIFACTS = REPO_ROOT / ".eventmart" / "artifacts" / "dashboard"
FIRST_DAY = date(2026, 4, 1)
DAYS = 45
NOT_YET = "\N{EN DASH}"  # a retention cell not yet observable
TYPES = ["page_view"] * 8 + ["click"] * 4 + ["search"] * 2 + ["signup", "purchase", "share"]


def known_events(seed: int = 16) -> list[Event]:
    """About 2,500 events of 150 users over 45 days, each user active for a stretch of days."""
    rng = random.Random(seed)
    events: list[Event] = []
    for user in range(150):
        start, span = rng.randrange(DAYS), rng.randrange(1, 20)
        for _ in range(rng.randrange(3, 30)):
            day = FIRST_DAY + timedelta(days=min(DAYS - 1, start + rng.randrange(span)))
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(86400)
            )
            stamp = moment.isoformat().replace("+00:00", "Z")
            kind = rng.choice(TYPES)
            events.append(Event(f"dash-{len(events):05d}", f"user-{user:03d}", kind, stamp))
    return events


@dataclass
class KnownEvents:
    """The events in raw.events (tests that add some append them here)."""

    events: list[Event] = field(default_factory=list)

    @property
    def expected(self) -> Seen:
        return self.expected_in("UTC")

    def expected_in(self, tz: str) -> Seen:
        return Seen(self.events, tz)


class Seen(Expected):
    """The expected answers in zone `tz`, rolling windows included (analytics_support)."""

    def __init__(self, loaded: list[Event], tz: str = "UTC") -> None:
        super().__init__(loaded, tz)
        self.tz = tz
        self.activity = Activity(loaded, tz)


# --- what the page shows -------------------------------------------------------------------

DRAWN_JS = """() => {
  const option = (id) => echarts.getInstanceByDom(document.getElementById(id)).getOption();
  const activity = option("activity-chart");
  const top = option("top-chart");
  const retention = option("retention-chart");
  return {
    dates: activity.xAxis[0].data,
    lines: Object.fromEntries(activity.series.map((s) => [s.name, s.data])),
    top_types: top.yAxis[0].data,
    top_events: top.series[0].data,
    cohorts: retention.yAxis[0].data,
    offsets: retention.xAxis[0].data,
    cells: retention.series[0].data.map((cell) => cell.value),
  };
}"""

TABLE_JS = """(id) => [...document.querySelectorAll(`#${id} tbody tr`)]
  .map((tr) => [...tr.cells].map((cell) => cell.innerText.trim()))"""


def draws(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.draws || 0)"))


def wait_drawn(page: Page, after: int = 0) -> int:
    """Wait until every chart has been drawn more than `after` times; the new count."""
    page.wait_for_function(f"Number(document.body.dataset.draws || 0) > {after}", timeout=30_000)
    return draws(page)


def drawn(page: Page) -> dict[str, Any]:
    """The numbers the charts draw (ECharts' own model of each chart)."""
    result: dict[str, Any] = page.evaluate(DRAWN_JS)
    return result


def table(page: Page, table_id: str) -> list[list[str]]:
    rows: list[list[str]] = page.evaluate(TABLE_JS, table_id)
    return rows


def shown_range(page: Page) -> tuple[str, str]:
    return page.input_value("#range-from"), page.input_value("#range-to")


def stats(api: str, path: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    reply = httpx2.get(f"{api}/stats/{path}", headers=headers or {})
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, Any]] = reply.json()["data"]
    return rows


def check_page(
    page: Page,
    expected: Seen,
    first: date,
    last: date,
    period: str,
    api: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Charts and tables show the expected answers for first..last (retention by `period`),
    which are also what /stats answers for that range."""
    assert shown_range(page) == (first.isoformat(), last.isoformat())
    dau = expected.dau(first, last)
    weekly = expected.activity.active_users(7, first, last)
    monthly = expected.activity.active_users(30, first, last)
    top = expected.top_events(first, last, 10)
    retention = expected.retention(first, last, period, 7)
    query = f"from={first}&to={last}&tz={expected.tz}"
    assert stats(api, f"dau?{query}", headers) == dau
    assert stats(api, f"active-users?{query}&window=7", headers) == weekly
    assert stats(api, f"active-users?{query}&window=30", headers) == monthly
    assert stats(api, f"top-events?{query}&limit=10", headers) == top
    assert stats(api, f"retention?{query}&period={period}&periods=7", headers) == retention
    seen = drawn(page)
    assert seen["dates"] == [row["date"] for row in dau]
    assert seen["lines"]["Active users"] == [row["active_users"] for row in dau]
    assert seen["lines"]["Weekly active users"] == [row["active_users"] for row in weekly]
    assert seen["lines"]["Monthly active users (30 days)"] == [
        row["active_users"] for row in monthly
    ]
    assert seen["lines"]["Events"] == [row["events"] for row in dau]
    assert table(page, "activity-table") == [
        [
            row["date"],
            f"{row['active_users']:,}",
            f"{week['active_users']:,}",
            f"{month['active_users']:,}",
            f"{row['events']:,}",
        ]
        for row, week, month in zip(dau, weekly, monthly, strict=True)
    ]
    assert {node.inner_text() for node in page.locator(".tz-name").all()} == {expected.tz}
    assert seen["top_types"] == [row["event_type"] for row in top]
    assert seen["top_events"] == [row["events"] for row in top]
    assert table(page, "top-table") == [
        [row["event_type"], f"{row['events']:,}", f"{row['users']:,}"] for row in top
    ]
    assert seen["cohorts"] == [row["cohort"] for row in retention]
    assert seen["offsets"] == [f"+{k}" for k in range(8)]
    assert seen["cells"] == [
        [k, y, rate]
        for y, row in enumerate(retention)
        for k, rate in enumerate(row["rate"])
        if rate is not None
    ]
    assert table(page, "retention-table") == [
        [
            row["cohort"],
            f"{row['size']:,}",
            *(
                NOT_YET if rate is None else f"{rate * 100:.2f}% ({retained:,})"
                for rate, retained in zip(row["rate"], row["retained"], strict=True)
            ),
        ]
        for row in retention
    ]


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
