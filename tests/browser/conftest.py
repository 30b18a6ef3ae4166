"""Browser fixtures: Debian's headless Chromium driven by Playwright (no browser download),
a service holding known events (built once per module), and dashboard servers per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import psycopg
import pytest
import redis
from playwright.sync_api import Browser, Page, sync_playwright

from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.browser.chromium import launch_chromium
from tests.browser.dashboard_support import ARTIFACTS, KnownEvents, known_events
from tests.conftest import running_api
from tests.integration.marts_support import drop_marts, write

LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API holds an event loop in this thread while it runs,
    # so it must be gone before other tests call asyncio.run().
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def known(settings: Settings) -> Iterator[KnownEvents]:
    """raw.events holds the known events and the marts are built from them (once a module)."""
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        drop_marts(conn)
        conn.execute("truncate raw.events")
        data = KnownEvents(known_events())
        write(conn, data.events)
        result = refresh_marts(settings)
        assert result.success, result.errors
        yield data
        drop_marts(conn)
        conn.execute("truncate raw.events")


POLL_FAST = {"EVENTMART_DASHBOARD_POLL_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def shared_dashboard(known: KnownEvents) -> Iterator[str]:
    """One `eventmart serve` with the default settings (fast polls) for the module's tests."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in POLL_FAST.items():
            patch.setenv(name, value)
        with running_api("dashboard-api") as url:
            yield url


@pytest.fixture
def dashboard(
    known: KnownEvents,
    redis_conn: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., str]]:
    """`start(**env)`: the base URL of `eventmart serve` with these extra EVENTMART_* variables
    (its own process; with none, the module's shared one)."""
    with ExitStack() as stack:

        def start(**env: str) -> str:
            if not env:
                return str(request.getfixturevalue("shared_dashboard"))
            for name, value in {**POLL_FAST, **env}.items():
                monkeypatch.setenv(name, value)
            return stack.enter_context(running_api("dashboard-api"))

        yield start


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`open_page(url, viewport)`: a fresh browser context (own session storage) at `url`.
    Script errors on the page fail the test."""
    errors: list[str] = []
    contexts = []

    def open_(url: str, viewport: dict[str, int] = LAPTOP) -> Page:
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        return page

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield open_
    for context in contexts:
        context.close()
    assert errors == [], errors
