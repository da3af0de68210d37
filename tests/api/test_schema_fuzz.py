"""A bounded schemathesis run over every operation of /openapi.json, in-process, with a hall manager's token:
valid and invalid inputs alike must never get a 5xx, and the server must still answer afterwards."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.conftest import login

API = "/api/v1"
# Per operation and generation mode: ~60 operations × 2 modes × 6 stay well under a minute on 2 cores.
# A deeper run by hand: HALLQ_FUZZ_EXAMPLES=100 pytest tests/api/test_schema_fuzz.py
EXAMPLES = int(os.environ.get("HALLQ_FUZZ_EXAMPLES", "6"))


def test_no_operation_answers_5xx(hall_client: TestClient) -> None:
    app = hall_client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    auth = {"headers": login(hall_client, "m01")}
    server_errors: list[str] = []
    unsatisfiable: list[str] = []
    operations = 0

    def run(operation: Any, mode: GenerationMode) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples on every run: a failure here is reproducible
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't search
            suppress_health_check=list(HealthCheck),
        )
        def examples(case: schemathesis.Case) -> None:
            # The manager's token always: the run is about parameters and bodies, not about logging in.
            headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            headers.update(auth["headers"])
            response = case.call(headers=headers)
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200} → "
                    f"{response.status_code} {response.text[:300]}"
                )
            if operation.path == f"{API}/auth/logout" and response.status_code == 200:
                auth["headers"] = login(hall_client, "m01")  # the run logged itself out: log in again

        try:
            examples()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): the positive run covered the operation.
            assert mode is GenerationMode.NEGATIVE, f"no valid example for {operation.method} {operation.path}"
            unsatisfiable.append(f"{operation.method.upper()} {operation.path}")

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"/openapi.json has an operation schemathesis cannot read: {result.err()}"
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(operation, mode)

    assert operations > 50 and len(unsatisfiable) < operations / 2, unsatisfiable
    assert server_errors == []

    # Still serving, and still consistent, after hundreds of odd requests.
    headers = auth["headers"]
    assert hall_client.get(f"{API}/hall").status_code == 200
    assert hall_client.get(f"{API}/auth/me", headers=headers).json()["username"] == "m01"
    hall_client.put(f"{API}/windows/w14/status", json={"status": "open"}, headers=headers)
    hall_client.put(f"{API}/windows/w14/groups", json={"groups": ["consult"]}, headers=headers)
    issued = hall_client.post(f"{API}/tickets", json={"group": "consult"}, headers=headers)
    assert issued.status_code == 201, issued.text
    number = issued.json()["ticket"]
    looked_up = hall_client.get(f"{API}/tickets", params={"number": number}, headers=headers)
    assert looked_up.status_code == 200 and looked_up.json()["state"] == "waiting"
