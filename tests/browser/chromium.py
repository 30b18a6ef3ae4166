"""Debian's Chromium (`apt-get install chromium chromium-driver`) through Playwright, with no
browser download: shared by the browser tests and benchmark.py's dashboard stage."""

from __future__ import annotations

import os
import shutil

from playwright.sync_api import Browser, Playwright

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """EVENTMART_CHROMIUM, else `chromium` on PATH."""
    return os.environ.get("EVENTMART_CHROMIUM") or shutil.which("chromium")


def launch_chromium(playwright: Playwright) -> Browser:
    path = chromium_path()
    if not path:
        raise RuntimeError(
            "Chromium is needed: apt-get install -y chromium chromium-driver "
            "(or set EVENTMART_CHROMIUM to its path)"
        )
    return playwright.chromium.launch(executable_path=path, args=FLAGS)
