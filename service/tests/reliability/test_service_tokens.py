"""The JWT cases test_identity.py does not cover: missing `exp` or `iat`, `iat` in the future,
non-integer times, `exp` before `iat` (not-yet-valid `nbf` is already there)."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest

from tests.reliability.figures import RunFigures
from tests.support.service_process import TEST_SECRET, ServiceProcess

NOW = int(time.time())
CLAIMS: dict[str, object] = {
    "sub": "credentials:1", "aud": "spotter", "iss": "spotter-web", "iat": NOW, "exp": NOW + 60,
}
CASES: dict[str, dict[str, object]] = {
    "missing exp": {"exp": None},
    "missing iat": {"iat": None},
    "missing aud": {"aud": None},
    "missing iss": {"iss": None},
    "iat in the future": {"iat": NOW + 600, "exp": NOW + 660},
    "float exp": {"exp": NOW + 60.5},
    "string exp": {"exp": str(NOW + 60)},
    "exp before iat": {"iat": NOW, "exp": NOW - 1},
    "audience list without spotter": {"aud": ["other", "spotter-web"]},
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_incomplete_or_odd_claims_are_401(reliability_service: ServiceProcess, figures: RunFigures, case: str) -> None:
    claims = {k: v for k, v in {**CLAIMS, **CASES[case]}.items() if v is not None}
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}", "X-Conversation-Id": str(uuid.uuid4())}
    figures.add("inputs_tried")
    for response in (
        httpx.post(f"{reliability_service.url}/v1/chat", json={"message": "hi"}, headers=headers),
        httpx.get(f"{reliability_service.url}/v1/workouts", headers=headers),
    ):
        assert response.status_code == 401, (case, response.text)
        assert response.json()["type"] == "urn:spotter:problem:unauthorized"
