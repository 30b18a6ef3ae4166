"""The plain dbt CLI from the repo root is safe beside `eventmart refresh` and the scheduler:
`dbt run`, `dbt build`, `dbt run --full-refresh` and `eventmart refresh`, started at once while
events land, all succeed (they take turns on the refresh lease), and the marts then equal a full
rebuild and an independent computation."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from core.settings import Settings
from jobs.refresh import dbt_env, dbt_target_dir
from tests.conftest import REPO_ROOT
from tests.integration.marts_support import Event, Expected, generate_history, snapshot, write
from tests.integration.test_marts import check_api, refresh

LEASE_LOG = """
create table lease_log (n serial, previous text, holder text);
create function log_lease() returns trigger language plpgsql as $$
begin
    insert into lease_log (previous, holder) values (old.holder, new.holder);
    return new;
end $$;
create trigger log_lease after update on raw.refresh_lease
for each row execute function log_lease();
"""


def start_dbt(settings: Settings, args: list[str], name: str) -> subprocess.Popen[bytes]:
    """The dbt CLI as a user runs it from the repo root (`eval "$(eventmart dbt-env)"`); each
    process writes its artifacts to its own folder, as dbt cannot share one between runs."""
    target = dbt_target_dir(settings) / f"cli-{name}"
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "dbt"), *args, "--target-path", str(target)],
        cwd=REPO_ROOT,
        env={**os.environ, **dbt_env(settings), "DBT_LOG_PATH": str(target)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_plain_dbt_runs_and_refreshes_at_once_while_events_land(
    marts: psycopg.Connection, settings: Settings, client: TestClient
) -> None:
    # every change of the lease, to show that no build took it from another
    marts.execute(LEASE_LOG)
    slices = generate_history(seed=21)
    write(marts, slices[0])
    landing = [event for part in slices[1:] for event in part]
    stop = threading.Event()

    def land() -> None:  # the raw writer, batch after batch, while the builds run
        assert settings.database_url
        with psycopg.connect(settings.database_url, autocommit=True) as writer:
            for start in range(0, len(landing), 1500):
                write(writer, landing[start : start + 1500])
                stop.wait(0.2)  # then the rest at once

    lander = threading.Thread(target=land)
    lander.start()
    processes = {
        "run": start_dbt(settings, ["run"], "run"),
        "build": start_dbt(settings, ["build"], "build"),
        "full-refresh": start_dbt(settings, ["run", "--full-refresh"], "full"),
        "refresh": subprocess.Popen(
            [sys.executable, "-m", "cli", "refresh"],
            cwd="/",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        ),
    }
    outputs = {name: process.communicate(timeout=600)[0] for name, process in processes.items()}
    (REPO_ROOT / ".eventmart").mkdir(exist_ok=True)
    for name, output in outputs.items():  # for a failure's post-mortem
        (REPO_ROOT / ".eventmart" / f"test-concurrent-{name}.log").write_bytes(output)
    stop.set()
    lander.join(timeout=120)
    failed = {
        name: outputs[name].decode(errors="replace")[-3000:]
        for name, process in processes.items()
        if process.returncode != 0
    }
    assert not failed, failed
    changes = marts.execute("select previous, holder from lease_log order by n").fetchall()
    marts.execute("drop trigger log_lease on raw.refresh_lease; drop function log_lease()")
    marts.execute("drop table lease_log")
    claims = [(previous, holder) for previous, holder in changes if holder != previous]
    # four builds took turns: each claimed a free lease and gave it back
    assert [holder is None for _, holder in claims] == [False, True] * 4, claims
    assert all(previous is None for previous, holder in claims if holder is not None), claims
    assert len({holder for _, holder in claims if holder}) == 4

    refresh(settings)
    check_api(client, Expected(slices[0] + landing))
    incremental = snapshot(marts)
    refresh(settings, full_refresh=True)
    assert snapshot(marts) == incremental


def test_a_build_that_lost_its_connections_is_taken_over(
    marts: psycopg.Connection, settings: Settings
) -> None:
    """A holder with no connection for longer than its grace (a killed dbt run) no longer
    blocks the next build."""
    marts.execute(
        "update raw.refresh_lease set holder = 'eventmart-dbt/killed', grace = '1 second'"
    )
    write(marts, [Event("t-1", "u", "view", "2026-04-10T12:00:00Z")])
    refresh(settings)  # waits out the grace, then takes over
    assert marts.execute("select holder from raw.refresh_lease").fetchone() == (None,)
    rows = marts.execute("select active_users from marts.fct_daily_active_users").fetchall()
    assert rows == [(1,)]
