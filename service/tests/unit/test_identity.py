"""Service tokens: minted and verified with every rule of the spec."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from spotter.identity import InvalidToken, mint_service_token, verify_service_token

SECRET = "k" * 40


def test_round_trip() -> None:
    assert verify_service_token(SECRET, mint_service_token(SECRET, "github:1234", 60)) == "github:1234"


def test_leeway_of_ten_seconds() -> None:
    token = mint_service_token(SECRET, "credentials:1", 60, now=time.time() - 65)
    assert verify_service_token(SECRET, token) == "credentials:1"
    stale = mint_service_token(SECRET, "credentials:1", 60, now=time.time() - 75)
    with pytest.raises(InvalidToken):
        verify_service_token(SECRET, stale)


def _claims() -> dict[str, object]:
    now = int(time.time())
    return {"sub": "credentials:1", "aud": "spotter", "iss": "spotter-web", "iat": now, "exp": now + 60}


def test_other_algorithms_are_refused() -> None:
    long_secret = SECRET * 2  # long enough for HS512, so only the algorithm is wrong
    with pytest.raises(InvalidToken):
        verify_service_token(long_secret, jwt.encode(_claims(), long_secret, algorithm="HS512"))


def test_hs_rs_confusion_is_refused() -> None:
    """A token claiming RS256 but HMAC-signed with the secret (the classic confusion) is refused."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(
        hmac.new(SECRET.encode(), header + b"." + payload, hashlib.sha256).digest()
    ).rstrip(b"=")
    with pytest.raises(InvalidToken):
        verify_service_token(SECRET, b".".join([header, payload, signature]).decode())


@pytest.mark.parametrize("sub", ["42", "credentials:", ":42", "credentials:4:2", "Credentials:42", "github:*", "a:b c"])
def test_minting_refuses_bad_subjects(sub: str) -> None:
    with pytest.raises(ValueError, match="sub"):
        mint_service_token(SECRET, sub)


def test_minting_refuses_long_lifetimes() -> None:
    with pytest.raises(ValueError, match="ttl"):
        mint_service_token(SECRET, "credentials:1", 301)
