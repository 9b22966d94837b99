"""Only a valid service token gets in: every other credential is 401 problem+json."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest

from spotter.identity import mint_service_token
from tests.support.service_process import TEST_SECRET, ServiceProcess

NOW = int(time.time())
CLAIMS = {"sub": "credentials:1", "aud": "spotter", "iss": "spotter-web", "iat": NOW, "exp": NOW + 60}


def token(secret: str = TEST_SECRET, algorithm: str = "HS256", **changes: object) -> str:
    claims = {k: v for k, v in {**CLAIMS, **changes}.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


BAD = {
    "forged (wrong key)": {"Authorization": "Bearer " + token(secret="another-secret-of-at-least-32-bytes!!")},
    "unsigned (alg none)": {"Authorization": "Bearer " + jwt.encode(CLAIMS, None, algorithm="none")},
    "expired": {"Authorization": "Bearer " + token(iat=NOW - 400, exp=NOW - 100)},
    "not yet valid": {"Authorization": "Bearer " + token(nbf=NOW + 600)},
    "over-long-lived": {"Authorization": "Bearer " + token(exp=NOW + 3600)},
    "wrong audience": {"Authorization": "Bearer " + token(aud="someone-else")},
    "wrong issuer": {"Authorization": "Bearer " + token(iss="evil")},
    "missing sub": {"Authorization": "Bearer " + token(sub=None)},
    "sub without namespace": {"Authorization": "Bearer " + token(sub="42")},
    "sub with a glob": {"Authorization": "Bearer " + token(sub="credentials:*")},
    "oversize token": {"Authorization": "Bearer " + "a" * 5000},
    "basic auth": {"Authorization": "Basic dXNlcjpwYXNz"},
    "bare X-User-Id": {"X-User-Id": "credentials:1"},
    "nothing": {},
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_credentials_are_401(llm_service: ServiceProcess, case: str) -> None:
    headers = {**BAD[case], "X-Conversation-Id": str(uuid.uuid4())}
    for response in (
        httpx.post(f"{llm_service.url}/v1/chat", json={"message": "hi"}, headers=headers),
        httpx.get(f"{llm_service.url}/v1/workouts", headers=headers),
        httpx.delete(f"{llm_service.url}/v1/me", headers=headers),
    ):
        assert response.status_code == 401, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:spotter:problem:unauthorized"


def test_a_valid_token_gets_in(llm_service: ServiceProcess) -> None:
    headers = {"Authorization": "Bearer " + mint_service_token(TEST_SECRET, "github:1234")}
    assert httpx.get(f"{llm_service.url}/v1/workouts", headers=headers).status_code == 200
