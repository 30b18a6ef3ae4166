"""posthog-js in headless Debian chromium (Playwright for Python) against eventmart.

A local page (another origin: CORS applies) loads posthog-js's built file from
tests/sdk/node/node_modules, captures, identifies, groups and aliases, then leaves the page:
the $pageleave goes out through the page-unload beacon (sendBeacon).
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright
from rq import Queue

from core.settings import Settings
from tests.browser.chromium import FLAGS, chromium_path
from tests.conftest import drain
from tests.sdk.conftest import (
    BAD_EVENT,
    POSTHOG_KEY,
    answered,
    assert_recent,
    bad_event_reason,
    fill_queue,
    rejected,
    stored,
    wait_for,
)

PAGES = Path(__file__).parent / "browser"
CHROMIUM = chromium_path() or "/usr/bin/chromium"  # Debian's package; no browser download
# else posthog-js sees an automated browser and sends nothing
CHROMIUM_FLAGS = [*FLAGS, "--disable-blink-features=AutomationControlled"]
CAPTURE_ROUTES = ("/e/", "/i/v0/e/", "/e", "/batch/")


class _Pages(http.server.SimpleHTTPRequestHandler):
    """The test pages, and /posthog-js/* from node_modules/posthog-js/dist."""

    dist: Path

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0]
        if clean.startswith("/posthog-js/"):
            return str(self.dist / clean.removeprefix("/posthog-js/"))
        return str(PAGES / clean.lstrip("/"))

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_server(node_sdks: Path) -> Iterator[str]:
    handler = functools.partial(_Pages, directory=str(PAGES))
    _Pages.dist = node_sdks / "node_modules" / "posthog-js" / "dist"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # posthog-js also filters user agents naming a headless browser: present a desktop one
    probe = browser.new_page()
    user_agent = probe.evaluate("navigator.userAgent").replace("HeadlessChrome", "Chrome")
    probe.close()
    context = browser.new_context(user_agent=user_agent)
    yield context.new_page()
    context.close()


# Counts posthog-js's navigator.sendBeacon calls (passed through unchanged) in sessionStorage,
# which outlives the page: the test reads it on the next page of the same origin.
COUNT_BEACONS = """
const send = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = (url, data) => {
    const queued = send(url, data);
    sessionStorage.setItem("beacons", String(Number(sessionStorage.getItem("beacons") || 0) + 1));
    return queued;
};
"""


def open_page(page: Page, page_server: str, api: str) -> list[Request]:
    """Load the page with posthog-js initialised; returns the capture requests it makes."""
    sent: list[Request] = []
    page.on(
        "request",
        lambda r: sent.append(r) if r.url.startswith(api) and r.method == "POST" else None,
    )
    page.add_init_script(COUNT_BEACONS)
    page.goto(f"{page_server}/index.html?api={api}&key={POSTHOG_KEY}")
    page.evaluate("window.posthogReady")
    return sent


def app_calls(page: Page) -> None:
    page.evaluate(
        """(bad) => {
            posthog.capture("order completed", {order_id: "o-1"});
            posthog.identify("user-42", {plan: "pro"});
            posthog.group("company", "org-7", {name: "Acme"});
            posthog.alias("alias-9");
            posthog.capture(bad);
            posthog.capture("sent by beacon", {via: "beacon"}, {transport: "sendBeacon"});
        }""",
        BAD_EVENT,
    )


def landed_types(conn: psycopg.Connection, queue: Queue) -> set[str]:
    drain(queue)
    return {row.event_type for row in stored(conn)}


def wait_until_landed(conn: psycopg.Connection, queue: Queue, types: set[str]) -> None:
    """Drain and poll until rows of every one of `types` are stored; name what is missing."""
    try:
        wait_for(lambda: landed_types(conn, queue) >= types, f"rows of {sorted(types)}")
    except AssertionError as exc:
        missing = types - landed_types(conn, queue)
        raise AssertionError(f"{exc}; still missing {sorted(missing)}") from None


EXPECTED_TYPES = {
    "$pageview",
    "order completed",
    "$identify",
    "$groupidentify",
    "$create_alias",
    "sent by beacon",
    "before leaving",
}


def leave_page(page: Page) -> int:
    """Queue one more event and leave at once: posthog-js flushes its queue on pagehide by
    sendBeacon. Returns how many beacons the page sent."""
    page.evaluate("posthog.capture('before leaving'); location.href = '/away.html'")
    page.wait_for_url("**/away.html")
    return int(page.evaluate("sessionStorage.getItem('beacons') || 0"))


def assert_browser_rows(conn: psycopg.Connection, sent_after: datetime) -> None:
    rows = {row.event_type: row for row in stored(conn)}
    assert set(rows) == EXPECTED_TYPES
    assert len(stored(conn)) == len(EXPECTED_TYPES)  # each once: no retry landed twice
    anonymous = rows["$pageview"].user_id  # the device id, before identify
    assert rows["$pageview"].properties["$device_id"] == anonymous
    assert rows["order completed"].user_id == anonymous
    assert rows["order completed"].properties["order_id"] == "o-1"
    assert rows["$identify"].user_id == "user-42"
    assert rows["$identify"].properties["$set"] == {"plan": "pro"}
    assert rows["$identify"].properties["$anon_distinct_id"] == anonymous
    assert rows["$groupidentify"].properties["$group_key"] == "org-7"
    assert rows["$groupidentify"].properties["$group_set"] == {"name": "Acme"}
    assert rows["$create_alias"].user_id == "user-42"
    assert rows["$create_alias"].properties["alias"] == "alias-9"
    assert rows["sent by beacon"].properties["via"] == "beacon"
    assert rows["before leaving"].user_id == "user-42"
    for row in rows.values():
        assert row.properties["$lib"] == "web"
        assert "token" not in row.properties  # the project key is not stored
        assert_recent(row, sent_after)
    [(source, _uuid, reason)] = rejected(conn)
    assert (source, reason) == ("posthog", bad_event_reason())


def test_posthog_js_mapping_gzip_and_unload_beacon(
    capture_api: str, page_server: str, page: Page, sdk_db: psycopg.Connection, queue: Queue
) -> None:
    sent_after = datetime.now(UTC)
    sent = open_page(page, page_server, capture_api)
    app_calls(page)
    wait_until_landed(sdk_db, queue, {"order completed"})
    assert leave_page(page) >= 2  # the explicit beacon and the unload flush
    wait_until_landed(sdk_db, queue, EXPECTED_TYPES)
    assert_browser_rows(sdk_db, sent_after)
    bodies = [r.post_data_buffer or b"" for r in sent if "/flags" not in r.url]
    assert any(body.startswith(b"\x1f\x8b") for body in bodies)  # gzip-js, as the config offers


def test_posthog_js_retries_a_503(
    capture_api: str,
    page_server: str,
    page: Page,
    sdk_db: psycopg.Connection,
    queue: Queue,
    settings: Settings,
) -> None:
    fill_queue(queue, settings)
    before = sum(answered(capture_api, route, 503) for route in CAPTURE_ROUTES)
    sent_after = datetime.now(UTC)
    open_page(page, page_server, capture_api)  # its $pageview is answered 503
    wait_for(
        lambda: sum(answered(capture_api, route, 503) for route in CAPTURE_ROUTES) > before, "a 503"
    )
    drain(queue)  # room again: posthog-js's retry must now land the $pageview
    wait_until_landed(sdk_db, queue, {"$pageview"})  # the retried $pageview
    # (the full mapping is the test above; a beacon is never retried, so none is sent earlier)
    page.evaluate("posthog.capture('after the retry', {step: 2})")
    leave_page(page)
    wait_until_landed(sdk_db, queue, {"$pageview", "after the retry", "before leaving"})
    rows = stored(sdk_db)
    assert sorted(row.event_type for row in rows) == [
        "$pageview",
        "after the retry",
        "before leaving",
    ]  # each once: the retried batch did not land twice
    assert len({row.user_id for row in rows}) == 1  # one anonymous device id
    for row in rows:
        assert row.properties["$lib"] == "web"
        assert_recent(row, sent_after)
    assert rejected(sdk_db) == []
