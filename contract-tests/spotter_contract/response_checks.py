"""The custom schemathesis check: stream rules on every 200 chat stream, problem+json on every error.

Registered with `@schemathesis.check`, so it runs next to the built-in checks on every response of
every phase (examples, coverage, fuzzing, stateful). A turn sent with an Idempotency-Key is
replayed once with the same key: the replay must carry the same events (ids and text), and a
stream resumed with Last-Event-ID must be exactly the replay's events after that id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import schemathesis
from schemathesis import CheckContext, Response

from spotter_contract.case_hooks import FRESH_CONVERSATIONS
from spotter_contract.stream_rules import (
    ChatRequestHeaders,
    StreamEvent,
    grammar_violations,
    parse_stream,
    problem_violations,
    resume_violations,
    stream_violations,
)
from spotter_contract.tally import TALLY

__all__ = ["CHAT_PATH", "judge", "spotter_stream_and_problem_rules"]

CHAT_PATH = "/v1/chat"
REPLAY_TIMEOUT_SECONDS = 60.0


def _is_event_stream(headers: Mapping[str, Sequence[str]]) -> bool:
    lowered = {name.lower(): values for name, values in headers.items()}
    return (lowered.get("content-type") or [""])[0].split(";")[0].strip().lower() == "text/event-stream"


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _replay(response: Response) -> tuple[list[StreamEvent], list[str]]:
    """Send the same turn again with the same Idempotency-Key and no Last-Event-ID."""
    request = response.request
    assert request.url is not None
    headers = {name: _text(value) for name, value in request.headers.items() if name.lower() != "last-event-id"}
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    replayed = httpx.post(request.url, headers=headers, content=body, timeout=REPLAY_TIMEOUT_SECONDS)
    if replayed.status_code != 200:
        return [], [f"replaying the keyed turn answered {replayed.status_code}: {replayed.text[:300]}"]
    events, violations = parse_stream(replayed.content)
    return events, violations + grammar_violations(events)


def judge(
    *,
    operation_path: str,
    status: int,
    headers: Mapping[str, Sequence[str]],
    body: bytes,
    sent_headers: Mapping[str, str],
    stream_cut_short: bool = False,
    replay: Response | None = None,
) -> tuple[list[StreamEvent], list[str]]:
    """Every Spotter rule for one response: (validated stream events, violations)."""
    violations = problem_violations(status, headers, body)
    if not (operation_path == CHAT_PATH and status == 200 and _is_event_stream(headers)):
        return [], violations
    conversation = {k.lower(): v for k, v in sent_headers.items()}.get("x-conversation-id")
    sent = ChatRequestHeaders.from_headers(sent_headers, fresh_conversation=conversation in FRESH_CONVERSATIONS)
    events, stream_problems = stream_violations(headers, body, sent)
    violations += stream_problems
    if stream_cut_short:
        violations.append("the stream was cut short before its end (raise max-stream-events)")
    if replay is not None and not violations:
        full, replay_problems = _replay(replay)
        violations += replay_problems
        if not replay_problems:
            if sent.last_event_id is None:
                if [(e.id, e.event, e.data) for e in full] != [(e.id, e.event, e.data) for e in events]:
                    violations.append("replaying the turn with its Idempotency-Key sent different events")
            else:
                violations += resume_violations(events, full, sent.last_event_id)
    return events, violations


@schemathesis.check
def spotter_stream_and_problem_rules(
    ctx: CheckContext, response: Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Fail the case when a chat stream or an error response breaks the spec's prose rules."""
    operation = case.operation
    generated = case.meta is not None  # hand-made cases (unit tests) stay out of the run's tally
    if generated:
        TALLY.record_response(f"{operation.method.upper()} {operation.path}", response.status_code)
    sent_headers = {name: _text(value) for name, value in response.request.headers.items()}
    keyed = any(name.lower() == "idempotency-key" for name in sent_headers)
    events, violations = judge(
        operation_path=operation.path,
        status=response.status_code,
        headers=response.headers,
        body=response.content,
        sent_headers=sent_headers,
        stream_cut_short=response.stream_cut_short,
        replay=response if keyed else None,
    )
    if violations:
        raise AssertionError("Spotter stream/problem rules broken:\n- " + "\n- ".join(violations))
    complete = (
        operation.path == CHAT_PATH
        and response.status_code == 200
        and bool(events)
        and events[0].id == "1"
        and events[-1].event in {"done", "error"}
    )
    if complete and generated:
        TALLY.record_stream(len(events))
    return None
