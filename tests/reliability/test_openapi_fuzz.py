"""schemathesis against the live API's own OpenAPI document: every operation, schema-valid and
schema-violating inputs; no 5xx, and every response matches what the document promises."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.harness import (
    REPO_ROOT,
    Api,
    Figures,
    Service,
    batches,
    make_events,
    queue_settled,
    record,
    redis_server,
    service_env,
    wait_until,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 70  # per operation and mode; parameterless operations (GET /health) yield one


def fuzz(
    operation: APIOperation,
    mode: GenerationMode,
    base_url: str,
    seen: list[int],
    statuses: Counter[str],
) -> None:
    """Run EXAMPLES generated cases against one operation; raise on the first failed check."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # report the failing case as found, no shrinking
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: schemathesis.Case) -> None:
        seen.append(1)
        response = case.call(base_url=base_url, timeout=30)
        statuses[f"{case.method.upper()} {response.status_code}"] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        exercise()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # No parameters or body to get wrong (e.g. GET /health): no negative case exists.


@pytest.mark.timeout(900)
def test_every_operation_survives_generated_requests(database: str, workdir: Path) -> None:
    with redis_server(workdir / "redis") as rds:
        env = service_env(database, rds.url, EVENTMART_WAIT_TIMEOUT="1s")
        api = Api(env, "fuzz-api").start()
        worker = Service(["worker"], env, "fuzz-worker").start()
        counts: dict[str, int] = {}
        statuses: Counter[str] = Counter()
        started = time.monotonic()
        try:
            # Real data and built marts, so the read endpoints answer with rows.
            with httpx2.Client(base_url=api.url, timeout=30) as client:
                for body in batches(make_events(3000, seed=31, prefix="fuzz"), 1000):
                    reply = client.post(
                        "/events", content=body, headers={"Content-Type": "application/json"}
                    )
                    assert reply.status_code == 202
            wait_until(lambda: queue_settled(rds.url), 120, 0.5, "the seed events to land")
            refresh = subprocess.run(
                [sys.executable, "-m", "cli", "refresh"],
                env=env,
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert refresh.returncode == 0, refresh.stderr[-2000:]

            schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
            operations = [result.ok() for result in schema.get_all_operations()]
            assert len(operations) >= 4
            for operation in operations:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    label = f"{operation.method.upper()} {operation.path} ({mode.value})"
                    seen: list[int] = []
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")  # hypothesis' notes on filtering
                            fuzz(operation, mode, api.url, seen, statuses)
                    finally:
                        counts[label] = len(seen)
            assert api.alive()
        finally:
            worker.stop()
            api.stop()
    total = sum(counts.values())
    record(
        Figures(
            scenario="openapi_fuzz",
            scale=f"{len(counts)} operation/mode pairs, up to {EXAMPLES} cases each",
            sent=total,
            accepted=sum(n for key, n in statuses.items() if key.endswith(" 202")),
            landed=0,
            lost=0,
            duplicated=0,
            recovery_seconds=None,
            details={
                "cases": dict(counts),
                "statuses": dict(statuses),
                "seconds": round(time.monotonic() - started, 1),
            },
        )
    )
    assert total >= 500, counts
