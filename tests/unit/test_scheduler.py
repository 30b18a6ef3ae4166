"""The refresh scheduler's job: never two at once, coalesced, a failure never kills it."""

from __future__ import annotations

from core.settings import Settings
from jobs.scheduler import build_scheduler, refresh_tick


def test_refresh_job_runs_now_then_every_interval_without_overlap() -> None:
    settings = Settings(database_url="postgresql://127.0.0.1:1/none", refresh_interval_seconds=15)
    job = build_scheduler(settings).get_job("refresh_marts")
    assert job is not None
    assert job.max_instances == 1
    assert job.coalesce is True
    assert job.trigger.interval.total_seconds() == 15


def test_a_failed_tick_is_logged_not_raised() -> None:
    # Nothing listens on port 1: the refresh cannot even take its lock.
    refresh_tick(Settings(database_url="postgresql://postgres@127.0.0.1:1/none"))
