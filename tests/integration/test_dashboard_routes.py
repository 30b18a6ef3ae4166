"""The dashboard's page, config and static files: public, with cache headers (no browser)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings

VENDORED = "dashboard/static/vendor/echarts/echarts-6.1.0.min.js"


@pytest.fixture
def keyed_client(
    settings: Settings, db: psycopg.Connection, redis_conn: redis.Redis
) -> Iterator[TestClient]:
    configured = settings.model_copy(
        update={
            "read_keys": ["dashboard-read-key-0123456789"],
            "dashboard_stale_seconds": 90.0,
            "timezones": ["Europe/Kyiv", "UTC"],
        }
    )
    with TestClient(create_app(configured)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/", "/dashboard"])
def test_the_page_is_public_and_revalidated(keyed_client: TestClient, path: str) -> None:
    page = keyed_client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert f'src="{VENDORED}"' in page.text
    assert keyed_client.head(path).status_code == 200
    assert keyed_client.get("/stats/dau").status_code == 401  # the numbers stay behind the key


def test_vendored_files_are_cached_for_good_and_own_files_revalidated(
    keyed_client: TestClient,
) -> None:
    vendored = keyed_client.get(f"/{VENDORED}")
    assert vendored.status_code == 200
    assert vendored.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "Apache License" in keyed_client.get("/dashboard/static/vendor/echarts/LICENSE").text
    for name in ("dashboard.js", "dashboard.css"):
        own = keyed_client.get(f"/dashboard/static/{name}")
        assert own.status_code == 200
        assert own.headers["cache-control"] == "no-cache"
        again = keyed_client.get(
            f"/dashboard/static/{name}", headers={"If-None-Match": own.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.headers["cache-control"] == "no-cache"
    assert keyed_client.get("/dashboard/static/missing.js").status_code == 404


def test_config_tells_the_page_about_keys_and_the_stale_threshold(
    keyed_client: TestClient, client: TestClient
) -> None:
    assert keyed_client.get("/dashboard/config.json").json() == {
        "keys_required": True,
        "stale_seconds": 90.0,
        "poll_seconds": 10.0,
        "refresh_interval_seconds": 60,
        "timezones": ["Europe/Kyiv", "UTC"],  # in order: the first is the default
    }
    # unset, the threshold is two refresh intervals plus a minute
    assert client.get("/dashboard/config.json").json()["stale_seconds"] == 180.0
    assert not client.get("/dashboard/config.json").json()["keys_required"]
