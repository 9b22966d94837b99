"""Who is calling: the user id from the bearer service token, and nothing else."""

from __future__ import annotations

from typing import Any

from litestar import Request

from spotter.identity import InvalidToken, verify_service_token

__all__ = ["authenticated_user"]


def authenticated_user(request: Request[Any, Any, Any], secret: str) -> str:
    """The token's `sub`; raises InvalidToken (401) for anything else, e.g. a bare X-User-Id."""
    values = request.headers.getall("authorization", [])
    if len(values) != 1:
        raise InvalidToken("exactly one Authorization header is required")
    scheme, _, token = values[0].partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("a bearer token is required")
    return verify_service_token(secret, token.strip())
