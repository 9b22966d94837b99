"""Reproducers of the bugs the contract run found: open ones (in `spotter_contract.known_bugs`)
as strict xfails, fixed ones as plain tests that keep them fixed.

Each asserts what the spec requires. While the bug is open the test fails (xfail); once the
service or the spec is fixed it passes, strict xfail reports that as a failure, and the bug's
entry in `known_bugs.py` (and the mark here) must go, which restores the full contract check.
"""

from __future__ import annotations

import httpx
import pytest
import yaml
from spotter_contract.contract_schema import SPEC_PATH
from spotter_contract.known_bugs import KNOWN_BUGS
from spotter_contract.target import CREDENTIALS, ContractTarget

SUMMARY = {bug.key: bug.summary for bug in KNOWN_BUGS}
SPEC = yaml.safe_load(SPEC_PATH.read_bytes())


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {CREDENTIALS.bearer_token()}"}


def _documented(path: str, method: str) -> set[str]:
    return set(SPEC["paths"][path][method]["responses"])


@pytest.mark.parametrize(("path", "methods"), [
    ("/v1/workouts", {"GET", "POST", "DELETE"}),
    ("/v1/workouts/0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11", {"GET", "DELETE"}),
])
def test_options_lists_every_documented_method(contract_target: ContractTarget, path: str, methods: set[str]) -> None:
    response = httpx.options(contract_target.base_url + path, headers=_auth())
    allowed = {part.strip().upper() for part in response.headers.get("allow", "").split(",") if part.strip()}
    assert methods <= allowed, f"OPTIONS {path} -> {response.status_code}, Allow: {response.headers.get('allow')}"


@pytest.mark.parametrize("path", ["/v1/workouts", "/v1/me"])
def test_invalid_request_id_answers_a_documented_status(contract_target: ContractTarget, path: str) -> None:
    response = httpx.delete(contract_target.base_url + path, headers={**_auth(), "X-Request-Id": "not valid!"})
    assert str(response.status_code) in _documented(path, "delete"), response.text


@pytest.mark.xfail(strict=True, reason=SUMMARY["opaque-cursor-400"])
def test_a_cursor_matching_the_spec_is_accepted(contract_target: ContractTarget) -> None:
    response = httpx.get(contract_target.base_url + "/v1/workouts", params={"cursor": "0"}, headers=_auth())
    assert response.status_code == 200, response.text


@pytest.mark.xfail(strict=True, reason=SUMMARY["integral-float-reps"])
def test_an_integral_number_is_an_integer(contract_target: ContractTarget) -> None:
    workout = {"date": "2026-11-18", "title": "Leg day", "sets": [{"exercise": "Back squat", "reps": 5.0}]}
    response = httpx.post(contract_target.base_url + "/v1/workouts", json=workout, headers=_auth())
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("path", ["/openapi.yaml", "/openapi-3.1.yaml"])
def test_served_document_matches_its_declared_schema(contract_target: ContractTarget, path: str) -> None:
    if contract_target.base_url.endswith("/api"):
        pytest.skip("the spec documents are served by the service only")
    response = httpx.get(contract_target.base_url + path)
    declared = SPEC["paths"][path]["get"]["responses"]["200"]["content"]["application/yaml"]["schema"]
    parsed = yaml.safe_load(response.content)
    parsed_type = "object" if isinstance(parsed, dict) else "string"
    assert declared.get("type") == parsed_type, f"{path} declares {declared} but its body parses to an {parsed_type}"
