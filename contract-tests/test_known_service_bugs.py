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
from spotter_contract.target import CREDENTIALS, ContractTarget

SPEC = yaml.safe_load(SPEC_PATH.read_bytes())
PROBLEM_JSON = "application/problem+json"


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


@pytest.mark.parametrize("cursor", ["A" * 36, "_" * 36, "0" * 36, "-" * 36, "c3BvdHRlci1jdXJzb3ItbWFkZS1ieS1oYW5k"])
def test_a_cursor_matching_the_spec_is_accepted(contract_target: ContractTarget, cursor: str) -> None:
    response = httpx.get(contract_target.base_url + "/v1/workouts", params={"cursor": cursor}, headers=_auth())
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list)


@pytest.mark.parametrize("cursor", ["0", "A" * 35, "A" * 37, "A" * 35 + "=", "A" * 35 + "."])
def test_a_cursor_of_another_shape_is_a_problem(contract_target: ContractTarget, cursor: str) -> None:
    response = httpx.get(contract_target.base_url + "/v1/workouts", params={"cursor": cursor}, headers=_auth())
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert [error.get("name") for error in response.json()["errors"]] == ["cursor"]


def _post_workout_with_reps(url: str, reps: str, auth: dict[str, str]) -> httpx.Response:
    # Raw JSON text: a client library would write 5e0 or 50E-1 as 5.0.
    body = b'{"date": "2026-11-18", "title": "Leg day", "sets": [{"exercise": "Back squat", "reps": REPS}]}'
    headers = {**auth, "Content-Type": "application/json"}
    return httpx.post(url, content=body.replace(b"REPS", reps.encode()), headers=headers)


@pytest.mark.parametrize("reps", ["5.0", "5e0", "50E-1"])
def test_an_integral_number_is_an_integer(contract_target: ContractTarget, reps: str) -> None:
    auth = _auth()  # one user for the create and the clean-up
    url = contract_target.base_url + "/v1/workouts"
    response = _post_workout_with_reps(url, reps, auth)
    assert response.status_code == 201, response.text
    assert response.json()["sets"][0]["reps"] == 5
    assert httpx.delete(f"{url}/{response.json()['id']}", headers=auth).status_code == 204


@pytest.mark.parametrize("reps", ["5.5", '"5"', "true", "0.0", "1001.0"])
def test_reps_that_are_no_integer_in_range_are_a_problem(contract_target: ContractTarget, reps: str) -> None:
    url = contract_target.base_url + "/v1/workouts"
    response = _post_workout_with_reps(url, reps, _auth())
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert [error["location"] for error in response.json()["errors"]] == ["body"]


@pytest.mark.parametrize("path", ["/openapi.yaml", "/openapi-3.1.yaml"])
def test_served_document_matches_its_declared_schema(contract_target: ContractTarget, path: str) -> None:
    if contract_target.base_url.endswith("/api"):
        pytest.skip("the spec documents are served by the service only")
    response = httpx.get(contract_target.base_url + path)
    declared = SPEC["paths"][path]["get"]["responses"]["200"]["content"]["application/yaml"]["schema"]
    parsed = yaml.safe_load(response.content)
    parsed_type = "object" if isinstance(parsed, dict) else "string"
    assert declared.get("type") == parsed_type, f"{path} declares {declared} but its body parses to an {parsed_type}"
