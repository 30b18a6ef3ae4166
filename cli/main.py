"""The `eventmart` command line: one process per role, or all of them with `eventmart dev`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from core.logging import configure_logging
from core.settings import Settings, get_settings

cli = typer.Typer(
    help="eventmart: product-analytics events into PostgreSQL marts.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings(process: str) -> Settings:
    settings = get_settings()
    configure_logging(settings, process)
    return settings


@cli.command()
def migrate() -> None:
    """Create or upgrade the raw schema objects (idempotent)."""
    from core.db import connect
    from loaders.migrate import migrate as run_migrations

    settings = _settings("migrate")
    with connect(settings) as conn:
        applied = run_migrations(conn)
    typer.echo(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Run the HTTP API (ingest, stats, operations)."""
    import uvicorn

    from api.auth import InsecureConfigError, check_keys_config
    from api.server import UVICORN_OPTIONS
    from core.metrics import multiprocess_dir, prepare_multiprocess_dir

    settings = _settings("api")
    try:
        check_keys_config(settings, warn=False)  # each app process warns once itself
    except InsecureConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    own_metrics_dir = None
    if workers > 1 and not multiprocess_dir():
        own_metrics_dir = prepare_multiprocess_dir()  # /metrics then sums every worker process
    try:
        uvicorn.run(
            "api.main:app",
            host=host,
            port=port,
            workers=workers,
            **UVICORN_OPTIONS,
        )
    finally:
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)


@cli.command()
def worker(
    burst: Annotated[bool, typer.Option(help="exit once the queue is empty")] = False,
) -> None:
    """Run one RQ worker that lands queued batches in raw.events."""
    from jobs.worker import run_worker

    settings = _settings("worker")
    run_worker(settings, burst=burst)


@cli.command()
def refresh(
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="rebuild every mart from raw.events")
    ] = False,
) -> None:
    """Build the marts now (waits if the scheduler is refreshing); works from any directory."""
    from jobs.refresh import refresh_marts

    settings = _settings("refresh")
    result = refresh_marts(settings, full_refresh=full_refresh)
    if not result.success:
        for error in result.errors:
            typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    waited = f" after waiting {result.waited_seconds:.1f} s" if result.waited_seconds >= 0.5 else ""
    typer.echo(
        f"marts refreshed in {result.seconds:.1f} s{waited}; "
        f"loaded through {result.loaded_through.isoformat() if result.loaded_through else '-'}"
    )


@cli.command()
def scheduler() -> None:
    """Refresh the marts every EVENTMART_REFRESH_INTERVAL_SECONDS (one refresh at a time)."""
    from jobs.scheduler import run_scheduler

    run_scheduler(_settings("scheduler"))


@cli.command("dbt-env")
def dbt_env() -> None:
    """Print `export` lines so the plain dbt CLI uses the service database:
    `eval "$(eventmart dbt-env)" && dbt build`."""
    import shlex

    from jobs.refresh import dbt_env as environment

    try:
        variables = environment(get_settings())
    except RuntimeError as exc:  # no DATABASE_URL
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for key, value in variables.items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@cli.command()
def load(
    paths: Annotated[
        list[str], typer.Argument(help="JSONL/CSV files (optionally .gz); - reads stdin")
    ],
    format: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: from the extension)")
    ] = None,
    rejects: Annotated[
        Path, typer.Option(help="where rejected rows go (JSON Lines, written only if any)")
    ] = Path("eventmart-rejects.jsonl"),
    refresh: Annotated[bool, typer.Option(help="build the marts after loading")] = False,
    strict: Annotated[bool, typer.Option(help="exit 1 if any row was rejected")] = False,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="rows per validated, committed chunk")
    ] = 20_000,
) -> None:
    """Import history files into raw.events (idempotent: re-runs count duplicates)."""
    import psycopg

    from loaders.history import load_files
    from loaders.progress import make_progress
    from loaders.sources import FORMATS, LoadError

    settings = _settings("load")
    if format is not None and format not in FORMATS:
        typer.echo(f"error: --format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    try:
        summary = load_files(
            settings,
            paths,
            format=format,  # type: ignore[arg-type]  # checked against FORMATS above
            rejects_path=rejects,
            chunk_size=chunk_size,
            progress=make_progress,
        )
    except (LoadError, psycopg.Error) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: the chunks written so far are kept; run again to finish", err=True)
        raise typer.Exit(130) from None
    typer.echo(summary.line())
    if summary.rejects_file is not None:
        typer.echo(f"rejected rows: {summary.rejects_file}")
    if refresh:
        from jobs.refresh import refresh_marts

        result = refresh_marts(settings)
        if not result.success:
            for error in result.errors:
                typer.echo(f"error: refresh: {error}", err=True)
            raise typer.Exit(3)  # the rows stay loaded; `eventmart refresh` retries the build
        typer.echo(f"marts refreshed in {result.seconds:.1f} s")
    if strict and summary.rejected:
        raise typer.Exit(1)


def _wait_for_api(url: str, timeout: float = 60) -> bool:
    import httpx2

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                return True
        except httpx2.HTTPError:
            time.sleep(0.3)
    return False


def _post_demo(url: str, settings: Settings) -> None:
    """Post the demo dataset once the API is up, build the marts, and say where to look."""
    import httpx2

    from loaders.demo import demo_events

    if not _wait_for_api(url):
        typer.echo("demo: the API did not come up; see the logs above", err=True)
        return
    events = demo_events()
    inserted = duplicates = 0
    for start in range(0, len(events), 500):
        reply = httpx2.post(f"{url}/events?wait=true", json=events[start : start + 500], timeout=30)
        body = reply.json()
        inserted += body.get("inserted", 0)
        duplicates += body.get("duplicates", 0)
    from jobs.refresh import refresh_marts

    refresh_marts(settings)  # serialized with the scheduler's; the stats show the demo at once
    typer.secho(
        f"\ndashboard:  {url}/  (open it in a browser)\n"
        f"demo: posted {len(events)} events -> {inserted} new rows in raw.events, "
        f"{duplicates} already there (re-runs are idempotent)\n"
        f"  API docs:   {url}/docs\n"
        f"  readiness:  {url}/ready\n"
        f"  stats:      {url}/stats/dau  {url}/stats/top-events  "
        f"{url}/stats/retention?period=week\n"
        f"  try:        curl -s -X POST {url}/events -H 'Content-Type: application/json' "
        '-d \'[{"event_id":"e1","user_id":"u1","event_type":"click",'
        '"occurred_at":"2026-01-01T00:00:00Z"}]\'\n'
        "  Ctrl-C stops everything.\n",
        fg="green",
    )


@cli.command()
def dev(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    demo: Annotated[bool, typer.Option(help="post a demo dataset once up")] = False,
) -> None:
    """Everything on one machine: embedded PostgreSQL+Redis if no URLs, schema, API, worker,
    scheduler."""
    from core.embedded import start_embedded
    from core.metrics import prepare_multiprocess_dir
    from loaders.migrate import migrate as run_migrations

    settings = _settings("dev")
    servers = None
    # One metrics directory for every child: the API's /metrics shows the worker's too.
    prepare_multiprocess_dir(settings.home / "metrics")
    env = dict(os.environ)
    if not settings.database_url or not settings.redis_url:
        typer.echo(f"starting embedded PostgreSQL and Redis under {settings.home}/ ...")
        servers = start_embedded(settings.home)
        env.setdefault("DATABASE_URL", servers.database_url)
        env.setdefault("REDIS_URL", servers.redis_url)
        settings = Settings(database_url=env["DATABASE_URL"], redis_url=env["REDIS_URL"])
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        run_migrations(conn)
    typer.echo(f"database: {env['DATABASE_URL']}\nredis:    {env['REDIS_URL']}")
    me = [sys.executable, "-m", "cli"]
    roles = {
        "api": [*me, "serve", "--host", host, "--port", str(port)],
        "worker": [*me, "worker"],
        "scheduler": [*me, "scheduler"],
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in roles.items()}  # noqa: S603
    if demo:
        demo_args = (f"http://{host}:{port}", settings)
        threading.Thread(target=_post_demo, args=demo_args, daemon=True).start()
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
        failed = [name for name, child in children.items() if child.poll() is not None]
        typer.echo(f"stopped: {', '.join(failed)} exited", err=True)
    except KeyboardInterrupt:
        typer.echo("\nstopping ...")
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        if servers is not None:
            servers.stop()
        typer.echo("stopped.")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
