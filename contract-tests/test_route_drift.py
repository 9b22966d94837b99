"""The service's routes, statuses and headers match what the spec documents for the service server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from spotter_contract.contract_schema import operations_served_by
from spotter_contract.service_routes import ServiceRoute, service_routes, statuses_from_source
from spotter_contract.target import CREDENTIALS, ContractTarget

from spotter.spec import load_spec

SPEC = load_spec()
SPEC_OPERATIONS = {
    (method, path): operation_id for operation_id, (method, path) in operations_served_by("service").items()
}


@pytest.fixture(scope="module")
def app_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[ServiceRoute], list[str]]:
    return service_routes(tmp_path_factory.mktemp("drift"))


@pytest.fixture(scope="module")
def routes(app_build: tuple[list[ServiceRoute], list[str]]) -> list[ServiceRoute]:
    return app_build[0]


def test_the_app_builds_without_warnings(app_build: tuple[list[ServiceRoute], list[str]]) -> None:
    assert app_build[1] == []


def _operation(method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = SPEC["paths"][path][method.lower()]
    return operation


def test_routes_and_methods_match_the_spec_exactly(routes: list[ServiceRoute]) -> None:
    served = {(route.method, route.path) for route in routes}
    assert served == set(SPEC_OPERATIONS), (
        f"served but not in the spec: {sorted(served - set(SPEC_OPERATIONS))}; "
        f"in the spec but not served: {sorted(set(SPEC_OPERATIONS) - served)}"
    )


@pytest.mark.parametrize(("method", "path"), sorted(SPEC_OPERATIONS))
def test_every_status_the_handler_can_answer_is_documented(routes: list[ServiceRoute], method: str, path: str,
                                                            request: pytest.FixtureRequest) -> None:
    route = next(r for r in routes if (r.method, r.path) == (method, path))
    documented = set(_operation(method, path)["responses"])
    produced = statuses_from_source(route.handler) | {route.status}
    assert produced <= documented, f"{method} {path} can answer {sorted(produced - documented)} undocumented"


def test_security_matches_the_handlers(routes: list[ServiceRoute]) -> None:
    """Operations with `security: []` must not authenticate; all others must."""
    for route in routes:
        public = _operation(route.method, route.path).get("security") == []
        authenticates = "401" in statuses_from_source(route.handler)
        assert public != authenticates, f"{route.method} {route.path}: security {'[]' if public else 'required'}"


# Documented response headers are actually sent (the spec cannot mark them required, so
# schemathesis only checks their values when present).

def _documented_headers(method: str, path: str, status: int) -> set[str]:
    response = _operation(method, path)["responses"][str(status)]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return {name.lower() for name in response.get("headers", {})}


def _assert_documented_headers(response: httpx.Response, method: str, path: str) -> None:
    documented = _documented_headers(method, path, response.status_code)
    missing = documented - {name.lower() for name in response.headers}
    assert not missing, f"{method} {path} -> {response.status_code} lacks documented headers {sorted(missing)}"


def test_documented_headers_are_sent(contract_target: ContractTarget) -> None:
    base = contract_target.base_url
    CREDENTIALS.begin_scenario()  # one user for the whole walk: the workout must stay theirs
    try:
        auth = {"Authorization": f"Bearer {CREDENTIALS.bearer_token()}"}
        conversation = str(uuid.uuid4())
        with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
            chat = client.post("/v1/chat", json={"message": "How many sets of squats?"},
                               headers={"X-Conversation-Id": conversation, "X-Conversation-Turn": "0"})
            assert chat.status_code == 200, chat.text
            _assert_documented_headers(chat, "POST", "/v1/chat")
            workout = {"date": "2026-11-18", "title": "Leg day", "sets": [{"exercise": "Back squat", "reps": 5}]}
            created = client.post("/v1/workouts", json=workout)
            _assert_documented_headers(created, "POST", "/v1/workouts")
            assert created.headers["location"] == f"/v1/workouts/{created.json()['id']}"
            item = f"/v1/workouts/{created.json()['id']}"
            for method, path, url in [
                ("GET", "/v1/workouts", "/v1/workouts"),
                ("GET", "/v1/workouts/{workout_id}", item),
                ("DELETE", "/v1/workouts/{workout_id}", item),
                ("GET", "/v1/workouts/{workout_id}", item),  # now 404
                ("POST", "/v1/conversations/{conversation_id}/cancel", f"/v1/conversations/{conversation}/cancel"),
                ("DELETE", "/v1/conversations/{conversation_id}", f"/v1/conversations/{conversation}"),
                ("DELETE", "/v1/workouts", "/v1/workouts"),
                ("DELETE", "/v1/me", "/v1/me"),
            ]:
                _assert_documented_headers(client.request(method, url), method, path)
            problems = [
                client.post("/v1/chat", json={"message": "hi"}, headers={"X-Conversation-Id": "nope"}),  # 400
                client.post("/v1/chat", json={"message": "hi"},
                            headers={"X-Conversation-Id": conversation, "Accept": "application/json"}),  # 406
                client.post("/v1/chat", content=b"hi", headers={"X-Conversation-Id": conversation,
                                                                "Content-Type": "text/plain"}),  # 415
                httpx.post(f"{base}/v1/chat", json={"message": "hi"}),  # 401
            ]
            assert [p.status_code for p in problems] == [400, 406, 415, 401]
            for problem in problems:
                _assert_documented_headers(problem, "POST", "/v1/chat")
    finally:
        CREDENTIALS.end_scenario()


def test_spec_paths_served_by_the_service_are_derived_from_servers() -> None:
    """Sanity of the partition the whole suite relies on: web-only paths are not the service's."""
    service = {path for _, path in SPEC_OPERATIONS}
    assert "/v1/chat" in service and "/healthz" in service
    assert not {"/v1/tokens", "/v1/tokens/{token_id}", "/v1/account"} & service
    assert Path(__file__).name  # the module is collected from contract-tests/
