"""Keep it so (issue 11): schemathesis over the whole OpenAPI schema against a real server on PostgreSQL + Redis.

Every operation of ``/schema/openapi.json`` gets generated requests twice, anonymous and signed in (a bearer
token), with a bounded number of examples (``MARKETPLACE_FUZZ_EXAMPLES``, default 6) and a time budget so the run
stays under a minute. No response may be a server error (5xx); each one is listed with its curl command.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402

from tests.factories import PASSWORD  # noqa: E402

EXAMPLES = int(os.environ.get("MARKETPLACE_FUZZ_EXAMPLES", "6"))
BUDGET_SECONDS = 45.0


def _signed_in(base: str) -> dict[str, str]:
    """A user with a bearer token."""
    with httpx.Client(base_url=base, timeout=10) as c:
        c.post("/api/v1/auth/register", json={"username": "fuzzer", "email": "fuzz@example.com",
                                              "password": PASSWORD})
        token = c.post("/api/v1/auth/token", json={"username": "fuzzer", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_no_server_errors_anonymous_or_signed_in(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/schema/openapi.json")
    headers = _signed_in(server)
    failures: list[str] = []
    cases = 0
    started = time.monotonic()
    operations = [r.ok() for r in schema.get_all_operations()]
    per_operation = max(2.0, BUDGET_SECONDS / max(1, 2 * len(operations)))

    def runner(who: str, auth: dict[str, str], deadline: float, strategy: Any) -> Any:
        @given(case=strategy)
        @hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                   phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            nonlocal cases
            if time.monotonic() > deadline:
                return
            cases += 1
            response = case.call(base_url=server, headers=auth, timeout=10)
            if response.status_code >= 500:
                failures.append(f"{who} {case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{case.as_curl_command()}\n{response.text[:300]}")

        return run

    for operation in operations:
        for who, auth in (("anonymous", {}), ("signed-in", headers)):
            runner(who, auth, time.monotonic() + per_operation, operation.as_strategy())()
    elapsed = time.monotonic() - started
    print(f"schemathesis: {cases} cases over {len(operations)} operations in {elapsed:.0f}s")
    assert cases > 2 * len(operations), cases
    summary = f"{len(failures)} server errors in {cases} cases ({elapsed:.0f}s):\n"
    assert not failures, summary + "\n".join(failures[:20])
