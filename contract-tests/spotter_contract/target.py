"""Where the contract run sends requests, and which credentials each request carries.

Locally the tests start the real service and mint a fresh service token for a fresh user per
case (so cases never share memory, workouts or rate limits). In the release pipeline
`SPOTTER_CONTRACT_BASE_URL` and `SPOTTER_CONTRACT_TOKEN` point the same tests at a deployment
(the service itself or the web app's `/api` proxy with a personal API token): one user for all.

Credentials are known at import (schemathesis applies auth while it builds the explicit-example
cases at collection); only the base URL waits for the service fixture.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from spotter.identity import mint_service_token
from tests.support.service_process import TEST_SECRET

__all__ = [
    "BASE_URL_VARIABLE",
    "CREDENTIALS",
    "SERVER",
    "SMOKE",
    "SMOKE_VARIABLE",
    "TOKEN_VARIABLE",
    "ContractTarget",
    "Credentials",
]

BASE_URL_VARIABLE = "SPOTTER_CONTRACT_BASE_URL"
TOKEN_VARIABLE = "SPOTTER_CONTRACT_TOKEN"
#: "1" for a short run that stops at the first failure without shrinking (the corrupted-service test).
SMOKE_VARIABLE = "SPOTTER_CONTRACT_SMOKE"
TOKEN_TTL_SECONDS = 300


@dataclass
class Credentials:
    """Bearer tokens: minted per case for a fresh user (or one user per stateful scenario), or fixed."""

    secret: str | None = None
    token: str | None = None
    _scenario_user: str | None = None
    _minted: dict[str, str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        if env.get(BASE_URL_VARIABLE, "").strip():
            token = env.get(TOKEN_VARIABLE, "").strip()
            if not token:
                raise RuntimeError(f"{BASE_URL_VARIABLE} is set, so {TOKEN_VARIABLE} must hold a bearer token for it")
            return cls(token=token)
        return cls(secret=TEST_SECRET)

    def begin_scenario(self) -> None:
        """Until `end_scenario`, every token is for one new user (linked steps share their data)."""
        with self._lock:
            self._scenario_user = _fresh_user()

    def end_scenario(self) -> None:
        with self._lock:
            self._scenario_user = None

    def bearer_token(self) -> str:
        """A token for the current user: a new one per call unless a scenario or a fixed token applies."""
        if self.token is not None:
            return self.token
        with self._lock:
            user = self._scenario_user or _fresh_user()
        return self._mint(user)

    def renewed(self, token: str) -> str | None:
        """A freshly dated token for the user of `token`, if this run minted it (else None)."""
        with self._lock:
            user = self._minted.get(token)
        return None if user is None else self._mint(user)

    def _mint(self, user: str) -> str:
        assert self.secret is not None
        token = mint_service_token(self.secret, user, TOKEN_TTL_SECONDS)
        with self._lock:
            self._minted[token] = user
        return token


def _fresh_user() -> str:
    return f"credentials:contract-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class ContractTarget:
    """The base URL under test; `is_deployment` when it came from the environment."""

    base_url: str
    is_deployment: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ContractTarget | None:
        """The deployment named by the environment, or None to start a local service."""
        env = os.environ if environ is None else environ
        base_url = env.get(BASE_URL_VARIABLE, "").strip()
        return cls(base_url.rstrip("/"), is_deployment=True) if base_url else None


CREDENTIALS = Credentials.from_environment()
SMOKE = os.environ.get(SMOKE_VARIABLE, "") == "1"
#: Which of the spec's servers is under test: the web app's proxy serves the paths under `/api`.
SERVER = "web" if os.environ.get(BASE_URL_VARIABLE, "").strip().rstrip("/").endswith("/api") else "service"
