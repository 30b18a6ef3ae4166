"""The raw writer and the dbt watermark macro must use the same advisory lock."""

from __future__ import annotations

import yaml

from core.locks import RAW_WRITE_LOCK_ID
from tests.conftest import REPO_ROOT


def test_writer_and_dbt_share_the_raw_write_lock() -> None:
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    assert project["vars"]["raw_write_lock_id"] == RAW_WRITE_LOCK_ID
