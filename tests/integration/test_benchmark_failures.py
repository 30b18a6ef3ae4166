"""benchmark.py must never time a failed step as a fast one: the stage fails, and `--check`."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

import benchmark
from tests.reliability.harness import fresh_database


@pytest.fixture
def broken_env(service_urls: tuple[str, str]) -> Iterator[benchmark.Env]:
    """A scratch database whose raw.events lacks `user_id`: every dbt build fails on it."""
    server_url, redis_url = service_urls
    with fresh_database(server_url) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("alter table raw.events drop column user_id")
        yield benchmark.Env(server_url, url, redis_url, str(conninfo_to_dict(url)["dbname"]))


def test_a_failed_refresh_fails_its_stage(broken_env: benchmark.Env) -> None:
    with pytest.raises(benchmark.StageFailed, match=r"^full refresh failed: stg_events: ") as e:
        benchmark._refresh(broken_env, full=True)
    assert 'column "user_id" does not exist' in str(e.value)


def test_check_fails_on_a_failed_stage() -> None:
    report = {
        "results": {
            "loader": {"rows": 10, "rows_per_s": 5.0, "stage_seconds": 2.0},
            "refresh": {"failed": "full refresh failed: boom", "stage_seconds": 1.0},
        },
        "ratios": {},
    }
    assert benchmark.missing_figures(report, ["loader", "refresh"]) == ["refresh (failed)"]
