"""One mart refresh: dbt run in-process (dbtRunner), one build at a time.

A refresh that finds another one running waits for it to finish and then runs itself, so a
manual `eventmart refresh` always builds from what is in raw.events when it starts building.
Refreshing processes queue on a PostgreSQL advisory lock, then take the refresh lease that the
plain dbt CLI takes too (dbt_project/macros/refresh_lease.sql), so a `dbt build` from the repo
root and a refresh never build at the same time either.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import structlog

from core.db import connect, libpq_params
from core.db import database_url as configured_database_url
from core.locks import REFRESH_LOCK_ID
from core.metrics import observe_refresh
from core.settings import Settings
from core.sql_files import query

log = structlog.get_logger(__name__)

# The models that keep a watermark in marts.refresh_watermarks carry this dbt tag.
WATERMARK_TAG = "watermarked"
# dbt reads the lease holder's name from here (macros/refresh_lease.sql).
LEASE_HOLDER_ENV = "EVENTMART_REFRESH_LEASE_HOLDER"
# New rows touching more than this share of the marts' days: rebuild instead of delete+insert.
FULL_REBUILD_SHARE = 0.5
PROJECT_DIR = Path(__file__).resolve().parent.parent  # holds dbt_project.yml and profiles.yml


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did; `refreshed_at`/`loaded_through` are what the read API reports."""

    success: bool
    full_refresh: bool
    seconds: float  # dbt's run, lock wait excluded
    waited_seconds: float  # time spent waiting for another refresh to finish
    refreshed_at: datetime | None = None
    loaded_through: datetime | None = None
    errors: list[str] = field(default_factory=list)
    skipped: bool = False  # nothing new since the last build: dbt was not started


def dbt_project_dir() -> Path:
    """The folder with dbt_project.yml, found from this package, never from the cwd."""
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise RuntimeError(f"dbt project not found at {PROJECT_DIR}")
    return PROJECT_DIR


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment dbt reads: the profile's connection (profiles.yml) and the reporting
    settings the models are built for (macros/reporting.sql)."""
    params = libpq_params(configured_database_url(settings))
    env = {f"EVENTMART_DBT_{key.upper()}": value for key, value in params.items()}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["EVENTMART_TIMEZONES"] = ",".join(settings.timezones)
    env["EVENTMART_BREAKDOWN_PROPERTIES"] = ",".join(settings.breakdown_properties)
    return env


def reporting_fingerprint(settings: Settings) -> str:
    """The reporting settings the marts are built for, spelled as dbt's
    `reporting_fingerprint()` does (dbt_project/macros/reporting_settings.sql): order ignored."""
    zones = ",".join(sorted(settings.timezones))
    properties = ",".join(sorted(settings.breakdown_properties))
    return f"timezones={zones};breakdown_properties={properties}"


def reporting_settings_changed(conn: psycopg.Connection, settings: Settings) -> bool:
    """True when the marts were not last built for these zones and breakdown properties (or
    nobody knows what for: never built, or built before the fingerprint was kept): only a
    build from scratch then gives every zone its whole history and drops removed ones."""
    try:
        row = conn.execute(query("jobs", "reporting_settings")).fetchone()
    except psycopg.errors.UndefinedTable:
        return True
    return row is None or row[0] != reporting_fingerprint(settings)


def dbt_target_dir(settings: Settings) -> Path:
    """Where dbt writes its manifest, logs and run_results.json: one folder per database."""
    return dbt_project_dir() / "target" / libpq_params(configured_database_url(settings))["dbname"]


def dbt_args(settings: Settings, command: str = "run", *, full_refresh: bool = False) -> list[str]:
    """dbt arguments; target and log folders per database so test runs never collide."""
    project = dbt_project_dir()
    target = dbt_target_dir(settings)
    args = [
        command,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(target),
        "--log-level",
        "none",
        "--log-level-file",
        "none",  # failures are logged by refresh_marts; an open dbt.log would leak a file
    ]
    if full_refresh:
        args.append("--full-refresh")
    return args


def run_dbt(
    settings: Settings,
    command: str = "run",
    *,
    full_refresh: bool = False,
    lease_holder: str | None = None,
) -> list[str]:
    """Run dbt in this process; return error messages (empty when every node succeeded).

    dbt takes the refresh lease itself unless `lease_holder` (the session that holds it for
    this run, see `refresh_marts`) is given."""
    from dbt.cli.main import dbtRunner

    # dbt reads its settings from the environment; they are set for this run only, so the
    # process (and anything it starts later) keeps its own environment
    wanted = dbt_env(settings) | ({LEASE_HOLDER_ENV: lease_holder} if lease_holder else {})
    saved = {name: os.environ.get(name) for name in [*wanted, LEASE_HOLDER_ENV]}
    os.environ.update(wanted)
    if not lease_holder:
        os.environ.pop(LEASE_HOLDER_ENV, None)
    try:
        outcome = dbtRunner().invoke(dbt_args(settings, command, full_refresh=full_refresh))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    errors: list[str] = []
    results = getattr(outcome.result, "results", None) or []
    for node_result in results:
        if str(node_result.status) in {"error", "fail", "runtime error", "skipped"}:
            errors.append(f"{node_result.node.name}: {node_result.status}: {node_result.message}")
    if outcome.exception is not None:
        errors.append(f"dbt: {outcome.exception}")
    if not outcome.success and not errors:
        errors.append("dbt: run failed (see dbt.log in the target folder)")
    return errors


_manifest_models: dict[Path, tuple[float, list[str]]] = {}


def watermarked_models(settings: Settings) -> list[str]:
    """Names of the models that keep a watermark (dbt tag `watermarked`), from the manifest
    dbt wrote for this database; empty before dbt has run there (then only a full build will
    do). Read again only when the manifest changes."""
    manifest = dbt_target_dir(settings) / "manifest.json"
    try:
        mtime = manifest.stat().st_mtime
    except FileNotFoundError:
        return []
    cached = _manifest_models.get(manifest)
    if cached is None or cached[0] != mtime:
        nodes = json.loads(manifest.read_bytes())["nodes"].values()
        names = sorted(
            node["name"]
            for node in nodes
            if node["resource_type"] == "model" and WATERMARK_TAG in node["tags"]
        )
        cached = _manifest_models[manifest] = (mtime, names)
    return cached[1]


def refresh_threshold(conn: psycopg.Connection, models: list[str]) -> datetime | None:
    """The earliest raw loaded_at one of the watermarked `models` still has to read, or None
    when one has never been built (or the marts do not exist yet): then only a full build
    will do."""
    if not models:
        return None
    try:
        row = conn.execute(query("jobs", "refresh_threshold"), {"models": models}).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    if row is None or row[0] != len(models):
        return None
    threshold: datetime = row[1]
    return threshold


def nothing_new(conn: psycopg.Connection, threshold: datetime | None) -> bool:
    """True when every model was built and no raw row arrived since: dbt would do nothing.

    Cheap (one probe of the loaded_at index), so a refresh with nothing new costs
    milliseconds instead of dbt's start-up and per-model statements.
    """
    if threshold is None:
        return False
    row = conn.execute(query("jobs", "pending_work"), {"threshold": threshold}).fetchone()
    return row is not None and not row[0]


def mostly_new(conn: psycopg.Connection, threshold: datetime | None) -> bool:
    """True when the new rows touch over FULL_REBUILD_SHARE of the days the marts hold
    (a backfill): a rebuild from scratch is then cheaper than delete+insert, same result."""
    if threshold is None:
        return True  # never built: a build from scratch either way (then analyzed)
    row = conn.execute(query("jobs", "touched_days"), {"threshold": threshold}).fetchone()
    return row is not None and row[1] > 0 and row[0] > FULL_REBUILD_SHARE * row[1]


def analyze_raw_if_stale(conn: psycopg.Connection) -> None:
    """Analyze raw.events when its statistics are missing or stale (right after a bulk load,
    before autovacuum gets to it): without them every "rows loaded since" read of the refresh
    is planned as a scan of the whole table instead of a short range of the loaded_at index."""
    row = conn.execute(query("jobs", "raw_stats_stale")).fetchone()
    if row is None or not row[0]:
        return
    started = time.monotonic()
    try:
        conn.execute(query("jobs", "analyze_raw"))
    except psycopg.errors.InsufficientPrivilege as exc:
        log.warning("raw_analyze_not_permitted", error=str(exc))
        return
    log.info("raw_analyzed", seconds=round(time.monotonic() - started, 3))


def read_refresh_status(conn: psycopg.Connection) -> tuple[datetime | None, datetime | None]:
    """(refreshed_at, loaded_through) of the last successful refresh, or Nones before any."""
    try:
        row = conn.execute(query("jobs", "refresh_status")).fetchone()
    except psycopg.errors.UndefinedTable:
        return None, None
    return (row[0], row[1]) if row else (None, None)


def _release_lock(lock_conn: psycopg.Connection, holder: str) -> None:
    """Give the lease back and unlock; a session lost to a server restart has already
    dropped its lock, and the lease of a session that is gone is free for the next claim."""
    try:
        lock_conn.execute(query("jobs", "release_refresh_lease"), {"holder": holder})
        lock_conn.execute(query("jobs", "refresh_unlock"), {"lock_id": REFRESH_LOCK_ID})
    except psycopg.OperationalError as exc:
        log.warning("refresh_lock_session_lost", error=str(exc))


def refresh_marts(settings: Settings, *, full_refresh: bool = False) -> RefreshResult:
    """Build the marts once (incrementally, or from scratch with `full_refresh`).

    Waits while another process refreshes. Never raises for a failed dbt run: the result
    says so and carries the errors; the caller decides (the scheduler retries next tick).
    """
    started = time.monotonic()
    holder = f"eventmart-refresh/{uuid.uuid4()}"
    with connect(settings, autocommit=True) as lock_conn:
        lock_conn.execute(query("jobs", "name_session"), {"name": holder})
        lock_conn.execute(query("jobs", "refresh_lock"), {"lock_id": REFRESH_LOCK_ID})
        lock_conn.execute(query("jobs", "claim_refresh_lease"), {"holder": holder})
        waited = time.monotonic() - started
        began = time.monotonic()
        skipped = False
        try:
            models = watermarked_models(settings)
            threshold = None if full_refresh else refresh_threshold(lock_conn, models)
            if threshold is not None and reporting_settings_changed(lock_conn, settings):
                log.info("refresh_rebuilds", reason="reporting settings changed")
                threshold = None  # a build from scratch, as before the first one
            skipped = nothing_new(lock_conn, threshold)  # never without a threshold
            if skipped:
                lock_conn.execute(query("jobs", "touch_refresh_status"))
                errors = []
            else:
                analyze_raw_if_stale(lock_conn)
                rebuild = full_refresh or mostly_new(lock_conn, threshold)
                if rebuild and not full_refresh and threshold is not None:
                    log.info("refresh_rebuilds", reason="new rows touch most days")
                # dbt analyzes what it rebuilt (on-run-end)
                errors = run_dbt(settings, full_refresh=rebuild, lease_holder=holder)
        finally:
            _release_lock(lock_conn, holder)
        seconds = time.monotonic() - began
        refreshed_at = loaded_through = None
        try:
            refreshed_at, loaded_through = read_refresh_status(lock_conn)
        except psycopg.OperationalError as exc:  # e.g. PostgreSQL restarted during the run
            errors.append(f"postgres: connection lost during the refresh ({exc})")
    result = RefreshResult(
        success=not errors,
        full_refresh=full_refresh,
        seconds=round(seconds, 3),
        waited_seconds=round(waited, 3),
        refreshed_at=refreshed_at,
        loaded_through=loaded_through,
        errors=errors,
        skipped=skipped,
    )
    observe_refresh(
        "failure" if not result.success else "skipped" if skipped else "success",
        seconds,
        loaded_through.timestamp() if loaded_through else None,
    )
    if errors:
        log.error("refresh_failed", full_refresh=full_refresh, errors=errors, seconds=seconds)
    else:
        log.info(
            "refresh_done",
            full_refresh=full_refresh,
            seconds=result.seconds,
            waited_seconds=result.waited_seconds,
            skipped=skipped,
            loaded_through=loaded_through.isoformat() if loaded_through else None,
        )
    return result
