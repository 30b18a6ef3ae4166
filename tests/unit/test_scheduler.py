"""The refresh scheduler's job: never two at once, coalesced, a failure never kills it."""

from __future__ import annotations

from core.settings import Settings
from jobs.scheduler import JOB_ID, RefreshLoop, build_scheduler, refresh_tick

NOWHERE = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1


def test_refresh_job_polls_without_overlap() -> None:
    settings = Settings(database_url=NOWHERE, refresh_interval_seconds=15)
    job = build_scheduler(settings).get_job(JOB_ID)
    assert job is not None
    assert job.max_instances == 1
    assert job.coalesce is True
    assert job.trigger.interval.total_seconds() == settings.refresh_poll_seconds == 1


def test_without_polling_the_job_runs_every_interval() -> None:
    settings = Settings(database_url=NOWHERE, refresh_interval_seconds=15, refresh_poll_seconds=0)
    job = build_scheduler(settings).get_job(JOB_ID)
    assert job is not None
    assert job.func is refresh_tick
    assert job.trigger.interval.total_seconds() == 15


def test_a_failed_tick_is_logged_not_raised() -> None:
    # The refresh cannot even take its lock.
    assert refresh_tick(Settings(database_url=NOWHERE)) is False


def test_after_a_failure_only_the_interval_brings_the_next_try() -> None:
    loop = RefreshLoop(Settings(database_url=NOWHERE, refresh_interval_seconds=3600))
    assert loop.tick() is True  # the first tick always refreshes (here: fails)
    assert loop.failing
    assert loop.tick() is False  # the probe fails quietly; the interval is not up
    loop.close()
