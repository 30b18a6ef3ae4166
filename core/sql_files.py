"""Load the SQL that lives beside the code in `.sql` files."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from psycopg import sql


@cache
def read_sql(package: str, name: str) -> str:
    """The text of `<package>/sql/<name>.sql`, read once."""
    return (files(package) / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def query(package: str, name: str) -> sql.SQL:
    """A composable query from `<package>/sql/<name>.sql` (trusted, shipped with the code)."""
    return sql.SQL(read_sql(package, name))
