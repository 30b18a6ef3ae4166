"""The refresh lease knows a live dbt run by its connections' application_name: every
connection of one run must carry that run's invocation id, and every build claims the lease."""

from __future__ import annotations

import yaml

from tests.conftest import REPO_ROOT


def test_every_dbt_connection_carries_its_run_id() -> None:
    profiles = yaml.safe_load((REPO_ROOT / "profiles.yml").read_text())
    for output in profiles["eventmart"]["outputs"].values():
        assert "{{ invocation_id }}" in output["application_name"]


def test_every_build_claims_and_gives_back_the_lease() -> None:
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    assert project["on-run-start"][0] == "{{ claim_refresh_lease() }}"
    assert project["on-run-end"][-1] == "{{ release_refresh_lease() }}"
    assert project["vars"]["refresh_lease_grace_seconds"] > 0
