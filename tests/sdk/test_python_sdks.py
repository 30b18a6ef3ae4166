"""segment-analytics-python, rudder-sdk-python and posthog (Python) against eventmart.

Each SDK: track/identify/page/screen/group/alias (posthog: capture/set/$pageview/group/alias)
land with the documented mapping and corrected times; one invalid message in the batch is
kept in raw.rejects; a 503 is retried by the SDK without duplicates; one gzip send each.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from posthog import Posthog
from rq import Queue
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient

from core.settings import Settings
from tests.conftest import drain
from tests.sdk.conftest import (
    BAD_EVENT,
    POSTHOG_KEY,
    SEGMENT_KEY,
    T,
    fill_queue,
    refuse_once_then_land,
    rejected,
)
from tests.sdk.expect import POSTHOG_GROUP, posthog_rows, segment_rows

SEGMENT_FAMILY = {
    "segment-python": (SegmentClient, "analytics-python"),
    "rudder-python": (RudderClient, "analytics-python"),
}


def segment_calls(client: Any, prefix: str) -> None:
    client.track(
        user_id="user-42",
        event="Order Completed",
        properties={"order_id": "o-1"},
        timestamp=T,
        message_id=f"{prefix}-track",
    )
    client.identify(
        user_id="user-42",
        anonymous_id="anon-1",
        traits={"plan": "pro"},
        message_id=f"{prefix}-identify",
    )
    client.page(
        user_id="user-42",
        category="Docs",
        name="Pricing",
        properties={"path": "/pricing"},
        message_id=f"{prefix}-page",
    )
    client.screen(user_id="user-42", name="Home", message_id=f"{prefix}-screen")
    client.group(
        user_id="user-42", group_id="org-7", traits={"name": "Acme"}, message_id=f"{prefix}-group"
    )
    client.alias(previous_id="anon-1", user_id="user-42", message_id=f"{prefix}-alias")
    client.track(anonymous_id="anon-2", event=BAD_EVENT, message_id=f"{prefix}-bad")


@pytest.mark.parametrize("sdk", sorted(SEGMENT_FAMILY))
@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_segment_family_mapping(
    capture_api: str, sdk_db: psycopg.Connection, queue: Queue, sdk: str, gzip: bool
) -> None:
    client_class, library = SEGMENT_FAMILY[sdk]
    client = client_class(SEGMENT_KEY, host=capture_api, gzip=gzip, upload_interval=0.05)
    sent_after = datetime.now(UTC)
    segment_calls(client, sdk)
    client.flush()
    client.shutdown()
    drain(queue)
    segment_rows(sdk_db, sdk, library, sent_after)


@pytest.mark.parametrize("sdk", sorted(SEGMENT_FAMILY))
def test_segment_family_retries_a_503(
    capture_api: str, sdk_db: psycopg.Connection, queue: Queue, settings: Settings, sdk: str
) -> None:
    client_class, library = SEGMENT_FAMILY[sdk]
    fill_queue(queue, settings)
    client = client_class(SEGMENT_KEY, host=capture_api, upload_interval=0.05, max_retries=10)
    sent_after = datetime.now(UTC)
    segment_calls(client, sdk)
    flushing = threading.Thread(target=client.flush)
    flushing.start()
    refuse_once_then_land(capture_api, "/v1/batch", queue, settings, flushing.is_alive)
    client.shutdown()
    segment_rows(sdk_db, sdk, library, sent_after)  # every event once, nothing twice


def posthog_calls(client: Posthog) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(6)]
    client.capture(
        "order completed",
        distinct_id="user-42",
        properties={"order_id": "o-1"},
        timestamp=T,
        uuid=ids[0],
    )
    client.set(distinct_id="user-42", properties={"plan": "pro"}, uuid=ids[1])
    client.capture(
        "$pageview",
        distinct_id="user-42",
        properties={"$current_url": "https://shop.example/pricing"},
        uuid=ids[2],
    )
    client.group_identify("company", "org-7", {"name": "Acme"}, uuid=ids[3], distinct_id="user-42")
    client.alias("anon-1", "user-42", uuid=ids[4])
    client.capture(BAD_EVENT, distinct_id="user-42", uuid=ids[5])
    return ids


def assert_posthog_python(conn: psycopg.Connection, ids: list[str], sent_after: datetime) -> None:
    rows = posthog_rows(
        conn,
        {
            "order completed": "user-42",
            "$set": "user-42",
            "$pageview": "user-42",
            "$groupidentify": "user-42",
            "$create_alias": "anon-1",  # posthog-python: distinct_id = previous_id
        },
        {
            "order completed": {"order_id": "o-1"},
            "$set": {"$set": {"plan": "pro"}},
            "$pageview": {"$current_url": "https://shop.example/pricing"},
            "$groupidentify": POSTHOG_GROUP,
            "$create_alias": {"alias": "user-42"},
        },
        "posthog-python",
        sent_after,
    )
    assert [rows[t].event_id for t in ("order completed", "$set", "$pageview")] == ids[:3]
    assert [rows[t].event_id for t in ("$groupidentify", "$create_alias")] == ids[3:5]
    assert rejected(conn)[0][1] == ids[5]


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_posthog_python_mapping(
    capture_api: str, sdk_db: psycopg.Connection, queue: Queue, gzip: bool
) -> None:
    client = Posthog(POSTHOG_KEY, host=capture_api, gzip=gzip, flush_interval=0.05)
    sent_after = datetime.now(UTC)
    ids = posthog_calls(client)
    client.flush()
    client.shutdown()
    drain(queue)
    assert_posthog_python(sdk_db, ids, sent_after)


def test_posthog_python_retries_a_503(
    capture_api: str, sdk_db: psycopg.Connection, queue: Queue, settings: Settings
) -> None:
    fill_queue(queue, settings)
    client = Posthog(POSTHOG_KEY, host=capture_api, flush_interval=0.05, max_retries=3)
    sent_after = datetime.now(UTC)
    ids = posthog_calls(client)
    flushing = threading.Thread(target=client.flush, kwargs={"timeout_seconds": 60})
    flushing.start()
    refuse_once_then_land(capture_api, "/batch/", queue, settings, flushing.is_alive)
    client.shutdown()
    assert_posthog_python(sdk_db, ids, sent_after)
