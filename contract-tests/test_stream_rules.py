"""The custom check must fail on broken streams and error responses, and pass a correct one."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from spotter_contract.contract_schema import load_contract_schema
from spotter_contract.response_checks import spotter_stream_and_problem_rules
from spotter_contract.stream_rules import (
    ChatRequestHeaders,
    StreamEvent,
    parse_stream,
    problem_violations,
    resume_violations,
    stream_violations,
)

STREAM_HEADERS = {
    "content-type": ["text/event-stream; charset=utf-8"],
    "cache-control": ["no-cache, no-transform"],
    "x-accel-buffering": ["no"],
}
IN_STEP = ChatRequestHeaders(client_turn=0, last_event_id=None, fresh_conversation=True)
DOCUMENTS = {"count": 1, "degraded": False,
             "documents": [{"id": "ex-goblet-squat", "title": "Goblet squat", "source": "knowledge", "score": 0.7}]}


def frame(event_id: int | str, event: str, **payload: Any) -> bytes:
    data = json.dumps({"type": event, **payload})
    return f"id: {event_id}\nevent: {event}\ndata: {data}\n\n".encode()


def good_turn(turn: int = 1) -> list[bytes]:
    return [
        frame(1, "retrieval_start", query="squats?"),
        b": ping\n\n",
        frame(2, "documents_found", **DOCUMENTS),
        frame(3, "response", delta="Start with 3 sets of 5 [1]."),
        frame(4, "done", turn=turn, finish_reason="stop", model="offline"),
    ]


def violations(body: list[bytes], sent: ChatRequestHeaders = IN_STEP, headers: dict[str, list[str]] | None = None
               ) -> list[str]:
    return stream_violations(headers or STREAM_HEADERS, b"".join(body), sent)[1]


def test_a_correct_stream_passes() -> None:
    events, found = stream_violations(STREAM_HEADERS, b"".join(good_turn()), IN_STEP)
    assert found == []
    assert [e.event for e in events] == ["retrieval_start", "documents_found", "response", "done"]


def test_an_error_may_replace_the_rest_at_any_point() -> None:
    error = frame(2, "error", code="llm_overloaded", message="busy", retryable=True)
    assert violations([frame(1, "retrieval_start", query="q"), error]) == []
    assert violations([frame(1, "error", code="shutting_down", message="bye", retryable=True)]) == []


def test_a_stream_without_done_fails() -> None:
    assert any("no terminal event" in v for v in violations(good_turn()[:-1]))


def test_an_event_after_done_fails() -> None:
    body = [*good_turn(), frame(5, "response", delta="late")]
    assert any("nothing after it" in v for v in violations(body))


def test_two_terminal_events_fail() -> None:
    body = [*good_turn(), frame(5, "error", code="x", message="y", retryable=False)]
    assert any("exactly one terminal" in v for v in violations(body))


def test_ids_out_of_order_fail() -> None:
    body = good_turn()
    body[2], body[3] = frame(3, "documents_found", **DOCUMENTS), frame(2, "response", delta="Hi")
    assert any("has id '3', expected 2" in v for v in violations(body))


def test_ids_must_count_from_one() -> None:
    body = [frame(2, "retrieval_start", query="q"), frame(3, "documents_found", **DOCUMENTS),
            frame(4, "done", turn=1, finish_reason="stop", model="offline")]
    assert any("expected 1" in v for v in violations(body))
    body[0] = frame(0, "retrieval_start", query="q")  # the spec's EventId pattern refuses 0
    assert any("breaks the spec's ChatStreamEvent" in v for v in violations(body))


def test_a_payload_type_other_than_the_event_name_fails() -> None:
    body = good_turn()
    body[3] = b'id: 3\nevent: response\ndata: {"type":"done","delta":"x"}\n\n'
    assert violations(body)


def test_a_renamed_payload_field_fails() -> None:
    body = good_turn()
    body[3] = b'id: 3\nevent: response\ndata: {"type":"response","text":"x"}\n\n'
    assert any("breaks the spec's ChatStreamEvent" in v for v in violations(body))


def test_response_before_documents_fails() -> None:
    body = [frame(1, "retrieval_start", query="q"), frame(2, "response", delta="x"),
            frame(3, "documents_found", **DOCUMENTS), frame(4, "done", turn=1, finish_reason="stop", model="m")]
    assert any("response*" in v for v in violations(body))


def test_done_turn_must_follow_the_clients_counter() -> None:
    assert any("done.turn is 2" in v for v in violations(good_turn(turn=2)))


def test_a_fresh_conversation_with_a_counter_needs_a_memory_lost_checkpoint() -> None:
    sent = ChatRequestHeaders(client_turn=4, last_event_id=None, fresh_conversation=True)
    assert any("must start with a checkpoint" in v for v in violations(good_turn(turn=5), sent))
    checkpoint = frame(1, "checkpoint", reason="memory_lost", message="Memory was lost.")
    body = [checkpoint, frame(2, "retrieval_start", query="q"), frame(3, "documents_found", **DOCUMENTS),
            frame(4, "done", turn=5, finish_reason="stop", model="offline")]
    assert violations(body, sent) == []
    expired = [frame(1, "checkpoint", reason="memory_expired", message="Idle too long."), *body[1:]]
    assert any("memory_lost" in v for v in violations(expired, sent))


def test_no_checkpoint_when_the_counter_is_zero() -> None:
    body = [frame(1, "checkpoint", reason="memory_lost", message="m"), frame(2, "retrieval_start", query="q"),
            frame(3, "documents_found", **DOCUMENTS), frame(4, "done", turn=1, finish_reason="stop", model="m")]
    assert any("turn counter is 0" in v for v in violations(body))


@pytest.mark.parametrize(("headers", "expected"), [
    ({**STREAM_HEADERS, "cache-control": ["no-cache"]}, "lacks no-transform"),
    ({**STREAM_HEADERS, "content-encoding": ["gzip"]}, "must not be encoded"),
])
def test_stream_headers_must_forbid_transformation(headers: dict[str, list[str]], expected: str) -> None:
    assert any(expected in v for v in violations(good_turn(), headers=headers))


def test_a_resumed_stream_is_the_tail_of_the_replay() -> None:
    full, _ = parse_stream(b"".join(good_turn()))
    assert resume_violations(full[2:], full, after_id=2) == []
    assert resume_violations(full[3:], full, after_id=2)
    assert resume_violations([StreamEvent("3", "response", {"type": "response", "delta": "other"})], full[:3], 2)


def test_a_plain_text_400_fails() -> None:
    assert problem_violations(400, {"content-type": ["text/plain"]}, b"bad request")


@pytest.mark.parametrize(("body", "expected"), [
    ({"type": "urn:spotter:problem:oops", "title": "Oops", "status": 400}, "Problem.type enum"),
    ({"type": "urn:spotter:problem:validation", "title": "Invalid", "status": 422}, "differs from the HTTP status"),
    ({"type": "urn:spotter:problem:validation", "status": 400}, "title"),
])
def test_a_problem_must_be_documented(body: dict[str, Any], expected: str) -> None:
    found = problem_violations(400, {"content-type": ["application/problem+json"]}, json.dumps(body).encode())
    assert any(expected in v for v in found)


def test_a_documented_problem_passes() -> None:
    body = {"type": "urn:spotter:problem:validation", "title": "Invalid request", "status": 400, "errors": []}
    assert problem_violations(400, {"content-type": ["application/problem+json"]}, json.dumps(body).encode()) == []


# Through schemathesis itself: the registered check raises on a broken response.

def _response(status: int, headers: dict[str, list[str]], body: bytes, sent: dict[str, str]) -> schemathesis.Response:
    request = requests.Request("POST", "http://127.0.0.1:9/v1/chat", headers=sent, json={"message": "hi"}).prepare()
    return schemathesis.Response(status_code=status, headers=headers, content=body, request=request,
                                 elapsed=0.01, verify=False)


@pytest.mark.parametrize(("status", "headers", "body"), [
    (200, STREAM_HEADERS, b"".join(good_turn()[:-1])),
    (200, STREAM_HEADERS, b"".join([*good_turn(), frame(5, "response", delta="late")])),
    (400, {"content-type": ["text/plain"]}, b"bad request"),
])
def test_the_registered_check_fails_broken_responses(status: int, headers: dict[str, list[str]], body: bytes) -> None:
    operation = load_contract_schema("service", only={"chat"})["/v1/chat"]["POST"]
    sent = {"X-Conversation-Id": "0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11", "X-Conversation-Turn": "0"}
    case = operation.Case(headers=sent, body={"message": "hi"})
    with pytest.raises(AssertionError, match="Spotter stream/problem rules broken"):
        spotter_stream_and_problem_rules(None, _response(status, headers, body, sent), case)  # type: ignore[arg-type]
    good = _response(200, STREAM_HEADERS, b"".join(good_turn()), sent)
    assert spotter_stream_and_problem_rules(None, good, case) is None  # type: ignore[arg-type]
