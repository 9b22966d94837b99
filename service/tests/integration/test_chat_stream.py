"""The chat stream against the real service: disconnect, cancel, 409, replay, errors, headers."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.observe import llm_messages
from tests.support.service_process import ServiceFactory, ServiceProcess
from tests.support.sse_client import Chat

SLOW = Behaviour(text=" ".join(f"word{n}" for n in range(200)), delay=0.05)


def test_stream_headers_and_grammar(llm_service: ServiceProcess, anthropic: AnthropicServer) -> None:
    chat = Chat(llm_service.url)
    result = chat.send("hello", **{"X-Request-Id": "req-123"})
    assert result.status == 200
    assert result.headers["content-type"].startswith("text/event-stream")
    assert result.headers["cache-control"] == "no-cache, no-transform"
    assert result.headers["x-accel-buffering"] == "no"
    assert result.headers["x-conversation-id"] == str(chat.conversation)
    assert result.headers["x-request-id"] == "req-123"
    assert "content-encoding" not in result.headers
    assert result.names[:2] == ["retrieval_start", "documents_found"]
    assert set(result.names[2:-1]) == {"response"} and result.names[-1] == "done"
    assert [e.id for e in result.events] == list(range(1, len(result.events) + 1))
    assert all(e.data["type"] == e.event for e in result.events)
    assert result.text == "You said: hello"


def test_a_client_disconnect_closes_the_llm_request_and_commits_the_partial_answer(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    anthropic.script(SLOW)
    chat = Chat(llm_service.url)
    seen = []
    for event in chat.stream("tell me a long story"):
        seen.append(event)
        if sum(e.event == "response" for e in seen) == 3:
            break
    dropped_at = time.monotonic()
    assert anthropic.wait_for(lambda s: s.streams[-1].closed_at is not None, within=5)
    assert anthropic.streams[-1].closed_at - dropped_at < 1.0  # type: ignore[operator]
    partial = "".join(e.data["delta"] for e in seen if e.event == "response")
    time.sleep(0.3)
    chat.turn = 1
    chat.send("go on")
    history = llm_messages(anthropic)
    assert history[0] == ("user", "tell me a long story")
    assert history[1][0] == "assistant" and history[1][1].startswith(partial)
    assert history[1][1] != " ".join(f"word{n}" for n in range(200))


def test_cancel_stops_the_turn_closes_the_llm_request_and_keeps_the_partial_answer(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    anthropic.script(SLOW)
    chat = Chat(llm_service.url)
    events = []

    def read() -> None:
        events.extend(chat.stream("a long answer please"))

    reader = threading.Thread(target=read)
    reader.start()
    assert anthropic.wait_for(lambda s: bool(s.streams) and s.streams[-1].deltas_sent >= 3, within=10)
    cancelled_at = time.monotonic()
    response = httpx.post(f"{llm_service.url}/v1/conversations/{chat.conversation}/cancel", headers=chat.headers())
    assert response.status_code == 204
    reader.join(10)
    assert anthropic.wait_for(lambda s: s.streams[-1].closed_at is not None, within=5)
    assert anthropic.streams[-1].closed_at - cancelled_at < 1.0  # type: ignore[operator]
    assert events[-1].event == "done"
    assert events[-1].data["finish_reason"] == "interrupted" and events[-1].data["turn"] == 1
    again = httpx.post(f"{llm_service.url}/v1/conversations/{chat.conversation}/cancel", headers=chat.headers())
    assert again.status_code == 204  # idempotent


def test_a_second_turn_while_streaming_is_409_and_other_conversations_are_unaffected(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    anthropic.script(SLOW, Behaviour())
    chat = Chat(llm_service.url)
    stream = chat.stream("first")
    next(stream)
    busy = chat.send("second")
    assert busy.status == 409
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.problem["type"] == "urn:spotter:problem:conversation-busy"
    assert int(busy.headers["retry-after"]) >= 1
    other = Chat(llm_service.url, chat.user)
    assert other.send("meanwhile").status == 200
    stream.close()


def test_a_resend_with_the_same_idempotency_key_replays_without_a_second_llm_call(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    chat = Chat(llm_service.url)
    first = chat.send("how do I deadlift?", **{"Idempotency-Key": "key-1"})
    chat.turn = 0
    again = chat.send("how do I deadlift?", **{"Idempotency-Key": "key-1"})
    assert again.events == first.events
    assert len(anthropic.requests) == 1
    resumed = chat.send("how do I deadlift?", **{"Idempotency-Key": "key-1", "Last-Event-ID": "2"})
    assert resumed.events == first.events[2:]
    conflict = chat.send("something else", **{"Idempotency-Key": "key-1"})
    assert conflict.status == 422
    assert conflict.problem["type"] == "urn:spotter:problem:idempotency-mismatch"
    other_user = Chat(llm_service.url, "github:7", chat.conversation)
    assert other_user.send("how do I deadlift?", **{"Idempotency-Key": "key-1"}).status == 200
    assert len(anthropic.requests) == 2  # another user's identical key is not a replay: the turn ran


@pytest.mark.parametrize(
    ("headers", "body", "status", "kind"),
    [
        ({"X-Conversation-Id": "not-a-uuid"}, {"message": "hi"}, 400, "validation"),
        ({"X-Conversation-Turn": "-1"}, {"message": "hi"}, 400, "validation"),
        ({"X-Conversation-Turn": "99999999"}, {"message": "hi"}, 400, "validation"),
        ({"Last-Event-ID": "3"}, {"message": "hi"}, 400, "validation"),
        ({"X-Timezone": "Mars/Olympus"}, {"message": "hi"}, 400, "validation"),
        ({}, {"message": ""}, 400, "validation"),
        ({}, {"message": "   "}, 400, "validation"),
        ({}, {"message": "x" * 4001}, 400, "validation"),
        ({}, {"message": "hi", "extra": 1}, 400, "validation"),
        ({}, {"text": "hi"}, 400, "validation"),
        ({"Accept": "application/json"}, {"message": "hi"}, 406, "not-acceptable"),
    ],
)
def test_bad_input_gets_a_problem_response(
    llm_service: ServiceProcess, headers: dict[str, str], body: dict[str, object], status: int, kind: str
) -> None:
    chat = Chat(llm_service.url)
    response = httpx.post(f"{llm_service.url}/v1/chat", json=body, headers={**chat.headers(), **headers})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:spotter:problem:{kind}"
    if status == 400:
        assert response.json()["errors"]


def test_wrong_content_type_invalid_json_and_oversized_bodies(llm_service: ServiceProcess) -> None:
    headers = Chat(llm_service.url).headers()
    url = f"{llm_service.url}/v1/chat"
    plain = httpx.post(url, content=b'{"message":"hi"}', headers={**headers, "Content-Type": "text/plain"})
    assert plain.status_code == 415 and plain.json()["type"] == "urn:spotter:problem:unsupported-media-type"
    broken = httpx.post(url, content=b'{"message":', headers={**headers, "Content-Type": "application/json"})
    assert broken.status_code == 400
    json_headers = {**headers, "Content-Type": "application/json"}
    invalid_utf8 = httpx.post(url, content=b'{"message":"\xff\xfe"}', headers=json_headers)
    assert invalid_utf8.status_code == 400
    huge = httpx.post(url, content=b'{"message":"' + b"a" * 70_000 + b'"}',
                      headers={**headers, "Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json()["type"] == "urn:spotter:problem:payload-too-large"


def test_unknown_paths_and_methods_are_problems(llm_service: ServiceProcess) -> None:
    missing = httpx.get(f"{llm_service.url}/v1/nothing")
    assert missing.status_code == 404 and missing.json()["type"] == "urn:spotter:problem:not-found"
    wrong = httpx.get(f"{llm_service.url}/v1/chat")
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]


def test_cancel_and_forget_validate_the_conversation_id(llm_service: ServiceProcess) -> None:
    headers = Chat(llm_service.url).headers()
    assert httpx.post(f"{llm_service.url}/v1/conversations/xyz/cancel", headers=headers).status_code == 400
    assert httpx.delete(f"{llm_service.url}/v1/conversations/{uuid.uuid4()}", headers=headers).status_code == 204


def test_heartbeats_keep_a_waiting_stream_alive(make_service: ServiceFactory, anthropic: AnthropicServer) -> None:
    service = make_service(SPOTTER_HEARTBEAT_SECONDS="0.3")
    anthropic.script(Behaviour(headers_delay=1.5))
    result = Chat(service.url).send("are you there?")
    assert result.comments >= 3  # `: ping` lines while the LLM had not answered yet
    assert result.names[-1] == "done"
    assert b": ping\n\n" in result.body
