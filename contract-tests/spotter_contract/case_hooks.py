"""Per-case request shaping for schemathesis: fresh credentials, fresh conversations, fresh keys.

Generated cases would otherwise reuse conversation ids and Idempotency-Keys across cases (the
generator likes repeating "valid" values), turning into 409 and 422 answers that say nothing
about the case itself. Only values that are valid per the spec are replaced, so the negative
cases that send an invalid id or key still reach the service unchanged; likewise only tokens this
run minted are renewed, so schemathesis' own auth probes (no token, a bad token) stay as they are.
"""

from __future__ import annotations

import re
import threading
import uuid
import zoneinfo
from typing import Any

import schemathesis
from schemathesis import AuthContext, Case, GenerationMode, HookContext

from spotter_contract.known_bugs import case_is_blocked_by_a_known_bug, is_ignored_http_noise
from spotter_contract.target import CREDENTIALS, Credentials

__all__ = ["FRESH_CONVERSATIONS", "FreshConversations", "install_case_hooks"]

_ZONES = frozenset(zoneinfo.available_timezones())
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_installed: set[int] = set()


class FreshConversations:
    """Conversation ids this run minted and the service cannot have seen before the case."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def mint(self) -> str:
        value = str(uuid.uuid4())
        with self._lock:
            self._ids.add(value)
        return value

    def __contains__(self, value: object) -> bool:
        with self._lock:
            return isinstance(value, str) and value.lower() in self._ids


FRESH_CONVERSATIONS = FreshConversations()


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _meet_prose_preconditions(case: Case[Any]) -> None:
    """Make a positive case valid by the rules the spec states in prose, not in its schemas.

    `Last-Event-ID` is "only together with Idempotency-Key (otherwise 400)", and `X-Timezone` is an
    IANA time zone (the pattern alone also admits names like `A/B`). Negative cases stay untouched.
    """
    headers = case.headers
    if not headers or case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    if "Last-Event-ID" in headers and "Idempotency-Key" not in headers:
        headers["Idempotency-Key"] = f"contract-{uuid.uuid4().hex}"
    zone = headers.get("X-Timezone")
    if isinstance(zone, str) and zone not in _ZONES:
        headers["X-Timezone"] = "Europe/Berlin"


def _refresh_headers(case: Case[Any], credentials: Credentials) -> None:
    _meet_prose_preconditions(case)
    headers = case.headers
    if not headers:
        return
    if _is_uuid(headers.get("X-Conversation-Id")):
        headers["X-Conversation-Id"] = FRESH_CONVERSATIONS.mint()
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _KEY.fullmatch(key):
        headers["Idempotency-Key"] = f"contract-{uuid.uuid4().hex}"
    authorization = headers.get("Authorization")
    if isinstance(authorization, str) and authorization.startswith("Bearer "):
        renewed = credentials.renewed(authorization.removeprefix("Bearer "))
        if renewed is not None:
            headers["Authorization"] = f"Bearer {renewed}"


def install_case_hooks(schema: schemathesis.BaseSchema, credentials: Credentials = CREDENTIALS) -> None:
    """Register the auth provider on `schema` and enable the per-send refresh for it."""

    @schema.auth(refresh_interval=None, retry_on=[])
    class FreshUserToken:
        """A newly minted token per case (or the deployment's fixed token): never cached."""

        def get(self, case: Case[Any], context: AuthContext) -> str:
            return credentials.bearer_token()

        def set(self, case: Case[Any], data: str, context: AuthContext) -> None:
            if case.headers is None:
                case.headers = {}
            case.headers["Authorization"] = f"Bearer {data}"

    @schema.hook("filter_case")
    def skip_known_bugs_and_tool_noise(context: HookContext, case: Case[Any]) -> bool:
        return not (case_is_blocked_by_a_known_bug(case) or is_ignored_http_noise(case))

    _installed.add(id(schema.raw_schema))


@schemathesis.hook("before_call")
def refresh_conversation_key_and_token(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Runs right before every send (also when Hypothesis replays a case), for schemas set up here."""
    if id(case.operation.schema.raw_schema) in _installed:
        _refresh_headers(case, CREDENTIALS)
