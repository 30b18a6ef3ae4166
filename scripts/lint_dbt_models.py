"""sqlfluff over the dbt models, both ways each model can compile (`make lint`).

The dbt templater renders the models against a database, and `is_incremental()` is true only
where the model's table exists: so lint once on a new scratch database (the full builds), build
the models there (`dbt run`, no data needed), and lint again (the incremental branches). Uses
DATABASE_URL's server, else an embedded PostgreSQL (core/embedded.py); the scratch database is
dropped afterwards. Exit status: sqlfluff's, or 1 when a model did not compile.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import get_settings  # noqa: E402
from jobs.refresh import dbt_env, run_dbt  # noqa: E402
from loaders.migrate import migrate  # noqa: E402


def lint(env: dict[str, str], label: str) -> int:
    """One sqlfluff pass over dbt_project/models (run there: it reads .sqlfluff from the cwd)."""
    print(f"sqlfluff dbt_project/models ({label})", flush=True)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "sqlfluff"), "lint", "models"],
        cwd=ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
    )
    print(done.stdout + done.stderr, end="", flush=True)
    if "Skipped file" in done.stdout + done.stderr:
        print(f"sqlfluff: a model did not compile ({label}, see above)")
        return 1
    return done.returncode


def main() -> int:
    server_url = os.environ.get("DATABASE_URL")
    embedded = None
    if not server_url:
        from core.embedded import start_embedded

        embedded = start_embedded(ROOT / ".eventmart" / "lint-server")
        server_url = embedded.database_url
    name = f"eventmart_lint_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        url = make_conninfo(server_url, dbname=name)
        with psycopg.connect(url) as conn:
            migrate(conn)
        settings = get_settings().model_copy(update={"database_url": url})
        env = {**os.environ, **dbt_env(settings), "DBT_TARGET_PATH": str(ROOT / "target" / name)}
        status = lint(env, "full builds: a new database")
        errors = run_dbt(settings)
        if errors:
            print("\n".join(["dbt run failed:", *errors]))
            return 1
        return lint(env, "incremental branches: after a build") or status
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    sys.exit(main())
