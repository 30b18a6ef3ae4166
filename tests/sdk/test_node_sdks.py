"""@segment/analytics-node, @rudderstack/rudder-sdk-node and posthog-node against eventmart.

Each SDK runs in its own `node` process (tests/sdk/node/send.js, packages from the committed
package-lock.json): the same calls as the Python SDK tests, the same assertions.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from rq import Queue

from core.settings import Settings
from tests.conftest import drain
from tests.sdk.conftest import POSTHOG_KEY, SEGMENT_KEY, fill_queue, refuse_once_then_land
from tests.sdk.expect import POSTHOG_GROUP, posthog_rows, segment_rows

LIBRARIES = {"segment-node": "@segment/analytics-node", "rudder-node": "analytics-node"}


def node(
    node_sdks: Path, sdk: str, api: str, prefix: str, compression: str = "gzip"
) -> subprocess.Popen[bytes]:
    key = POSTHOG_KEY if sdk.startswith("posthog") else SEGMENT_KEY
    executable = shutil.which("node")
    assert executable, "node (20) is needed for the Node SDK tests"
    return subprocess.Popen(
        [executable, "send.js", sdk, api, key, prefix, compression],
        cwd=node_sdks,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[bytes]) -> None:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output.decode()


def assert_posthog_node(conn: psycopg.Connection, sent_after: datetime) -> None:
    rows = posthog_rows(
        conn,
        {
            "order completed": "user-42",
            "$identify": "user-42",
            "$pageview": "user-42",
            "$groupidentify": "$company_org-7",  # posthog-node's own distinct_id for a group
            "$create_alias": "user-42",
        },
        {
            "order completed": {"order_id": "o-1"},
            "$identify": {"$set": {"plan": "pro"}},
            "$pageview": {"$current_url": "https://shop.example/pricing"},
            "$groupidentify": POSTHOG_GROUP,
            "$create_alias": {"alias": "anon-1"},
        },
        "posthog-node",
        sent_after,
    )
    assert rows["order completed"].event_id.startswith("0190e1a0-")  # the uuid the app passed


def check(conn: psycopg.Connection, sdk: str, prefix: str, sent_after: datetime) -> None:
    if sdk == "posthog-node":
        assert_posthog_node(conn, sent_after)
    else:
        segment_rows(conn, prefix, LIBRARIES[sdk], sent_after)


ROUTES = {"segment-node": "/v1/batch", "rudder-node": "/v1/batch", "posthog-node": "/batch/"}


@pytest.mark.parametrize("sdk", sorted(ROUTES))
def test_node_sdk_mapping(
    capture_api: str, node_sdks: Path, sdk_db: psycopg.Connection, queue: Queue, sdk: str
) -> None:
    # gzip is the default of rudder-node and posthog-node; segment-node has no compression
    sent_after = datetime.now(UTC)
    finish(node(node_sdks, sdk, capture_api, "101"))
    drain(queue)
    check(sdk_db, sdk, "101", sent_after)


@pytest.mark.parametrize("sdk", sorted(ROUTES))
def test_node_sdk_retries_a_503(
    capture_api: str,
    node_sdks: Path,
    sdk_db: psycopg.Connection,
    queue: Queue,
    settings: Settings,
    sdk: str,
) -> None:
    fill_queue(queue, settings)
    sent_after = datetime.now(UTC)
    process = node(node_sdks, sdk, capture_api, "202", compression="plain")
    refuse_once_then_land(capture_api, ROUTES[sdk], queue, settings, lambda: process.poll() is None)
    finish(process)
    check(sdk_db, sdk, "202", sent_after)
