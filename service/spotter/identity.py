"""Service tokens: the short-lived JWTs the web app mints and the only identity the service trusts.

HS256 is pinned (no `alg` negotiation: `none` and RS/HS confusion are refused by PyJWT when the
algorithm list is fixed), and `aud`, `iss`, `iat`, `exp`, the lifetime and the `sub` pattern
are all checked. The user id is the token's `sub` and nothing else.
"""

from __future__ import annotations

import time

import jwt

from spotter.errors import SpotterError
from spotter.memory.model import USER_ID_PATTERN

__all__ = [
    "AUDIENCE",
    "ISSUER",
    "LEEWAY_SECONDS",
    "MAX_LIFETIME_SECONDS",
    "MAX_TOKEN_BYTES",
    "InvalidToken",
    "mint_service_token",
    "verify_service_token",
]

AUDIENCE = "spotter"
ISSUER = "spotter-web"
ALGORITHM = "HS256"
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 10
MAX_TOKEN_BYTES = 4096


class InvalidToken(SpotterError):
    """The bearer token is missing, malformed, forged, expired or otherwise not acceptable."""


def mint_service_token(secret: str, sub: str, ttl_seconds: int = 60, now: float | None = None) -> str:
    """A token for `sub` valid `ttl_seconds` (at most 300), as the web app mints them."""
    if not USER_ID_PATTERN.fullmatch(sub):
        raise ValueError(f"sub {sub!r} must look like 'credentials:42' (method:id)")
    if not 0 < ttl_seconds <= MAX_LIFETIME_SECONDS:
        raise ValueError(f"ttl must be between 1 and {MAX_LIFETIME_SECONDS} seconds")
    issued = int(time.time() if now is None else now)
    claims = {"sub": sub, "aud": AUDIENCE, "iss": ISSUER, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_service_token(secret: str, token: str) -> str:
    """The user id of a valid token; raises InvalidToken otherwise."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("token too long")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "aud", "iss", "iat", "exp"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(f"invalid token: {error}") from None
    issued, expires, sub = claims["iat"], claims["exp"], claims["sub"]
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise InvalidToken("iat and exp must be integers")
    if expires - issued > MAX_LIFETIME_SECONDS:
        raise InvalidToken("token lifetime exceeds 300 seconds")
    if not isinstance(sub, str) or not USER_ID_PATTERN.fullmatch(sub):
        raise InvalidToken("sub is not a namespaced user id")
    return sub
