"""What JSON Schema cannot say about Spotter's responses, as plain functions over what was sent and received.

The spec types each SSE event (schemathesis and `validate_event` check that), but the order of
events, their ids, the single terminal event, the turn counter and the stream headers are rules in
the operation's prose; so is "every error is problem+json with a documented `type`". Each rule
returns the list of violations it found (empty when the response obeys the spec), so a unit test
can feed it a deliberately broken response and see it fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spotter.spec import load_spec
from tests.support.sse_client import parse_sse, validate_event

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ChatRequestHeaders",
    "StreamEvent",
    "grammar_violations",
    "parse_stream",
    "problem_types",
    "problem_violations",
    "resume_violations",
    "stream_header_violations",
    "stream_violations",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TERMINAL = frozenset({"done", "error"})

# One letter per event name; the operation's grammar `checkpoint? retrieval_start documents_found
# response* done`, where `error` may replace the rest at any point, becomes a regular expression.
_LETTERS = {
    "checkpoint": "c",
    "retrieval_start": "r",
    "documents_found": "d",
    "response": "p",
    "done": "D",
    "error": "E",
}
_GRAMMAR = re.compile(r"c?(rdp*D|(r(dp*)?)?E)")


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One parsed SSE frame: its id as sent, its event name and its decoded JSON payload."""

    id: str
    event: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatRequestHeaders:
    """The request headers that decide what a chat stream must look like."""

    client_turn: int
    last_event_id: int | None
    fresh_conversation: bool

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], *, fresh_conversation: bool) -> ChatRequestHeaders:
        """Read the (already accepted, so valid) headers of a request that got a 200 stream."""
        lowered = {name.lower(): value for name, value in headers.items()}
        turn = lowered.get("x-conversation-turn")
        last = lowered.get("last-event-id")
        return cls(
            client_turn=int(turn.strip()) if turn is not None else 0,
            last_event_id=int(last.strip()) if last is not None else None,
            fresh_conversation=fresh_conversation,
        )


def problem_types() -> frozenset[str]:
    """The `type` URIs the spec's Problem schema allows."""
    schema = load_spec()["components"]["schemas"]["Problem"]["properties"]["type"]
    return frozenset(schema["enum"])


def parse_stream(body: bytes) -> tuple[list[StreamEvent], list[str]]:
    """Events of an SSE body, each validated against the spec's ChatStreamEvent; and violations."""
    try:
        frames, _comments = parse_sse(body)
    except UnicodeDecodeError as error:
        return [], [f"the stream is not UTF-8: {error}"]
    events: list[StreamEvent] = []
    violations: list[str] = []
    for position, frame in enumerate(frames, start=1):
        try:
            validate_event(frame)
        except Exception as error:  # jsonschema, JSON and key errors alike: the frame is not a spec event
            violations.append(f"event #{position} {dict(frame)!r} breaks the spec's ChatStreamEvent: {error}")
            continue
        events.append(StreamEvent(frame["id"], frame["event"], json.loads(frame["data"])))
    return events, violations


def grammar_violations(events: Sequence[StreamEvent], *, first_id: int = 1) -> list[str]:
    """Order, terminal event, ids and payload `type` of a complete stream (or its tail from `first_id`)."""
    violations: list[str] = []
    names = [event.event for event in events]
    for offset, event in enumerate(events):
        expected = str(first_id + offset)
        if event.id != expected:
            violations.append(f"event {event.event!r} has id {event.id!r}, expected {expected} (ids count 1, 2, ...)")
        if event.data.get("type") != event.event:
            violations.append(f"event {event.event!r} carries payload type {event.data.get('type')!r}")
    terminals = [index for index, name in enumerate(names) if name in TERMINAL]
    if not terminals:
        violations.append(f"no terminal event (done or error) ends the stream: {names}")
    elif len(terminals) > 1 or terminals[0] != len(names) - 1:
        violations.append(f"exactly one terminal event must end the stream, nothing after it: {names}")
    if first_id == 1:
        word = "".join(_LETTERS.get(name, "?") for name in names)
        if not _GRAMMAR.fullmatch(word):
            violations.append(
                "events break `checkpoint? retrieval_start documents_found response* done` "
                f"(error replacing the rest): {names}"
            )
    return violations


def _turn_violations(events: Sequence[StreamEvent], sent: ChatRequestHeaders) -> list[str]:
    violations: list[str] = []
    checkpoints = [event for event in events if event.event == "checkpoint"]
    if sent.client_turn == 0 and checkpoints:
        violations.append("a checkpoint was sent although the client's turn counter is 0")
    if sent.fresh_conversation and sent.client_turn > 0:
        if not events or events[0].event != "checkpoint":
            violations.append(
                f"a fresh conversation with X-Conversation-Turn {sent.client_turn} must start with a checkpoint"
            )
        elif events[0].data.get("reason") != "memory_lost":
            violations.append(f"a never-seen conversation's checkpoint says {events[0].data.get('reason')!r}, "
                              "expected 'memory_lost'")
    done = [event for event in events if event.event == "done"]
    if done and done[0].data.get("turn") != sent.client_turn + 1:
        violations.append(
            f"done.turn is {done[0].data.get('turn')!r} for X-Conversation-Turn {sent.client_turn}; "
            f"a conversation in step gets {sent.client_turn + 1}"
        )
    return violations


def stream_header_violations(headers: Mapping[str, Sequence[str]]) -> list[str]:
    """Stream headers: never transformed (no-transform, no Content-Encoding)."""
    lowered = {name.lower(): list(values) for name, values in headers.items()}
    violations: list[str] = []
    cache_control = ",".join(lowered.get("cache-control", []))
    if "no-transform" not in [part.strip().lower() for part in cache_control.split(",")]:
        violations.append(f"Cache-Control {cache_control!r} lacks no-transform")
    if lowered.get("content-encoding"):
        violations.append(f"a stream must not be encoded, got Content-Encoding {lowered['content-encoding']}")
    return violations


def stream_violations(
    headers: Mapping[str, Sequence[str]], body: bytes, sent: ChatRequestHeaders
) -> tuple[list[StreamEvent], list[str]]:
    """Every rule for a 200 chat stream; the parsed events and what is wrong with them."""
    events, violations = parse_stream(body)
    violations += stream_header_violations(headers)
    if sent.last_event_id is None:
        violations += grammar_violations(events)
        violations += _turn_violations(events, sent)
    elif events:
        # A resumed stream is the tail after Last-Event-ID; the caller compares it with the full replay.
        violations += grammar_violations(events, first_id=sent.last_event_id + 1)
    return events, violations


def resume_violations(tail: Sequence[StreamEvent], full: Sequence[StreamEvent], after_id: int) -> list[str]:
    """A resumed stream must be exactly the events of the full turn after `after_id`."""
    expected = [event for event in full if int(event.id) > after_id]
    if list(tail) != expected:
        return [
            f"resuming after id {after_id} sent {[(e.id, e.event) for e in tail]}, "
            f"but the replayed turn's events after it are {[(e.id, e.event) for e in expected]}"
        ]
    return []


def problem_violations(status: int, headers: Mapping[str, Sequence[str]], body: bytes) -> list[str]:
    """An error response must be RFC 9457 problem+json with a documented `type` and its own status."""
    if status < 400:
        return []
    lowered = {name.lower(): list(values) for name, values in headers.items()}
    content_type = (lowered.get("content-type") or [""])[0]
    media = content_type.split(";")[0].strip().lower()
    if media != PROBLEM_MEDIA_TYPE:
        return [f"a {status} answered with Content-Type {content_type!r}, not {PROBLEM_MEDIA_TYPE}"]
    try:
        problem = json.loads(body)
    except ValueError as error:
        return [f"a {status} problem body is not JSON: {error}"]
    if not isinstance(problem, dict):
        return [f"a {status} problem body is not a JSON object: {problem!r}"]
    violations: list[str] = []
    if problem.get("type") not in problem_types():
        violations.append(f"problem type {problem.get('type')!r} is not in the spec's Problem.type enum")
    if problem.get("status") != status:
        violations.append(f"problem status {problem.get('status')!r} differs from the HTTP status {status}")
    if not isinstance(problem.get("title"), str):
        violations.append("a problem needs a string title")
    return violations
