"""The dashboard at `/`, in a real headless Chromium, against a service holding known events:
what a person sees equals an independent computation and what /stats/* answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Page, expect
from rq import Queue

from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.browser.conftest import PHONE
from tests.browser.dashboard_support import (
    KnownEvents,
    check_page,
    draws,
    screenshot,
    shown_range,
    table,
    wait_drawn,
)
from tests.conftest import drain, start_process, stop_process
from tests.integration.marts_support import Event

pytestmark = pytest.mark.integration

Start = Callable[..., str]
Open = Callable[..., Page]
READ_KEY = "dashboard-read-key-0123456789"


def csv_download(page: Page, link: str) -> str:
    with page.expect_download() as download:
        page.click(link)
    return Path(download.value.path()).read_bytes().decode()


def test_default_range_numbers_equal_stats_at_laptop_and_phone_width(
    known: KnownEvents, dashboard: Start, open_page: Open
) -> None:
    url = dashboard()
    expected = known.expected
    last = expected.latest
    first = last - timedelta(days=29)
    page = open_page(url)
    wait_drawn(page)
    # the API's default range (from/to left out) is the one drawn and shown in the picker
    meta = httpx2.get(f"{url}/stats/dau").json()["meta"]
    assert (meta["from"], meta["to"]) == (first.isoformat(), last.isoformat())
    check_page(page, expected, first, last, "day", url)
    expect(page.locator("#freshness")).to_have_attribute("data-state", "fresh")
    expect(page.locator("#freshness")).to_contain_text("Fresh: refreshed")
    expect(page.locator("#key-panel")).to_be_hidden()
    expect(page.locator("#tz-field")).to_be_hidden()  # one reporting zone: nothing to choose
    # each CSV link downloads the /stats answer for the range drawn
    query = f"from={first}&to={last}"
    assert (
        csv_download(page, "#activity-csv a")
        == httpx2.get(f"{url}/stats/dau?{query}&format=csv").text
    )
    assert (
        csv_download(page, "#retention-csv a")
        == httpx2.get(f"{url}/stats/retention?{query}&period=day&periods=7&format=csv").text
    )
    screenshot(page, "laptop-1366")

    phone = open_page(url, PHONE)
    wait_drawn(phone)
    check_page(phone, expected, first, last, "day", url)
    # nothing wider than the phone: no sideways scrolling of the page
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.locator("#activity-chart canvas").first.bounding_box()["width"] <= PHONE["width"]
    screenshot(phone, "phone-390")


def test_changing_the_range_and_cohort_period_redraws_charts_and_tables(
    known: KnownEvents, dashboard: Start, open_page: Open
) -> None:
    url = dashboard()
    expected = known.expected
    page = open_page(url)
    count = wait_drawn(page)
    first, last = expected.earliest + timedelta(days=5), expected.earliest + timedelta(days=19)
    page.fill("#range-from", first.isoformat())
    page.fill("#range-to", last.isoformat())
    page.click("#range-form button[type=submit]")
    count = wait_drawn(page, count)
    check_page(page, expected, first, last, "day", url)

    page.select_option("#retention-period", "week")
    count = wait_drawn(page, count)
    check_page(page, expected, first, last, "week", url)
    page.select_option("#retention-period", "day")
    count = wait_drawn(page, count)

    page.click("button[data-days='7']")  # the 7 days ending at the latest day with data
    count = wait_drawn(page, count)
    seven = expected.latest - timedelta(days=6)
    check_page(page, expected, seven, expected.latest, "day", url)
    page.click("#range-default")
    count = wait_drawn(page, count)
    assert shown_range(page) == (
        (expected.latest - timedelta(days=29)).isoformat(),
        expected.latest.isoformat(),
    )

    # a range the API refuses is said so, naming the parameter; the last charts stay
    page.fill("#range-from", last.isoformat())
    page.fill("#range-to", first.isoformat())
    page.click("#range-form button[type=submit]")
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("HTTP 422")
    expect(page.locator("#error")).to_contain_text("from")
    assert draws(page) == count


def test_posted_events_appear_after_a_refresh_without_a_reload(
    known: KnownEvents, dashboard: Start, open_page: Open, queue: Queue, settings: Settings
) -> None:
    url = dashboard()
    page = open_page(url)
    count = wait_drawn(page)
    page.evaluate("window.__sameDocument = true")
    refreshed = page.evaluate("document.body.dataset.refreshedAt")
    latest = known.expected.latest
    new = [
        Event(f"live-{i}", f"live-user-{i % 7}", "live_checkout", f"{latest}T1{i % 10}:00:00Z")
        for i in range(400)
    ]
    reply = httpx2.post(f"{url}/events", json=[event.__dict__ for event in new])
    assert reply.status_code == 202, reply.text
    assert reply.json()["accepted"] == len(new)
    drain(queue)
    result = refresh_marts(settings)
    assert result.success, result.errors
    known.events.extend(new)

    wait_drawn(page, count)  # the page saw the newer refresh by polling meta
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("document.body.dataset.refreshedAt") != refreshed
    expected = known.expected
    check_page(page, expected, latest - timedelta(days=29), latest, "day", url)
    assert ["live_checkout", "400", "7"] in table(page, "top-table")


def test_read_key_prompt_wrong_key_message_and_keyed_csv(
    known: KnownEvents, dashboard: Start, open_page: Open
) -> None:
    url = dashboard(EVENTMART_READ_KEYS=READ_KEY)
    # the page is public; the numbers are not
    assert httpx2.get(url).status_code == 200
    assert httpx2.get(f"{url}/stats/dau").status_code == 401
    page = open_page(url)
    expect(page.locator("#key-panel")).to_be_visible()
    expect(page.locator("#content")).to_be_hidden()

    page.fill("#key-input", "not-the-key")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#key-error")).to_be_visible()
    expect(page.locator("#key-error")).to_contain_text("That read key was refused (HTTP 403")
    expect(page.locator("#content")).to_be_hidden()  # no empty charts
    assert draws(page) == 0
    assert page.evaluate("sessionStorage.getItem('eventmart.readKey')") is None
    screenshot(page, "laptop-wrong-key")

    page.fill("#key-input", READ_KEY)
    page.click("#key-form button[type=submit]")
    count = wait_drawn(page)
    expect(page.locator("#key-panel")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('eventmart.readKey')") == READ_KEY
    expected = known.expected
    first, last = expected.latest - timedelta(days=29), expected.latest
    keyed = {"Authorization": f"Bearer {READ_KEY}"}
    check_page(page, expected, first, last, "day", url, keyed)
    # a link cannot send the key: the page fetches the CSV with it and saves the answer
    assert (
        csv_download(page, "#top-csv a")
        == httpx2.get(
            f"{url}/stats/top-events?from={first}&to={last}&limit=10&format=csv", headers=keyed
        ).text
    )

    page.reload()  # the key stays for the tab's session
    wait_drawn(page)
    expect(page.locator("#key-panel")).to_be_hidden()
    page.click("#forget-key")
    expect(page.locator("#key-panel")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('eventmart.readKey')") is None
    assert count == 1


def test_stale_badge_once_the_scheduler_stops_past_the_threshold(
    known: KnownEvents, dashboard: Start, open_page: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = dashboard(EVENTMART_DASHBOARD_STALE_SECONDS="4")
    monkeypatch.setenv("EVENTMART_REFRESH_INTERVAL_SECONDS", "1")
    scheduler = start_process(["scheduler"], "dashboard-scheduler")  # nothing new: quick ticks
    try:
        page = open_page(url)
        wait_drawn(page)
        badge = page.locator("#freshness")
        expect(badge).to_have_attribute("data-state", "fresh", timeout=30_000)
    finally:
        stop_process(scheduler)
    expect(badge).to_have_attribute("data-state", "stale", timeout=30_000)
    expect(badge).to_contain_text("Stale: refreshed")
    colour = badge.evaluate("(node) => getComputedStyle(node).backgroundColor")
    assert colour == "rgb(255, 209, 102)"  # --stale-bg, the warning colour
    screenshot(page, "laptop-stale-badge")


def test_time_zone_selector_redraws_every_chart_in_the_chosen_zone(
    known: KnownEvents, dashboard: Start, open_page: Open, settings: Settings
) -> None:
    zones = "UTC,Asia/Kolkata"
    result = refresh_marts(settings.model_copy(update={"timezones": zones.split(",")}))
    assert result.success, result.errors
    url = dashboard(EVENTMART_TIMEZONES=zones)
    page = open_page(url)
    count = wait_drawn(page)
    utc = known.expected
    check_page(page, utc, utc.latest - timedelta(days=29), utc.latest, "day", url)
    assert page.locator("#range-tz option").all_inner_texts() == zones.split(",")

    page.select_option("#range-tz", "Asia/Kolkata")
    wait_drawn(page, count)
    kolkata = known.expected_in("Asia/Kolkata")
    last = kolkata.latest  # the API's default range ends at the zone's latest local day
    check_page(page, kolkata, last - timedelta(days=29), last, "day", url)
