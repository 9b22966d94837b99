"""Conversation memory end to end against the real service: window, TTL, restart, turn counter."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.support.anthropic_server import AnthropicServer
from tests.support.observe import llm_messages, metric
from tests.support.service_process import ServiceFactory, ServiceProcess
from tests.support.sse_client import Chat

#: Short enough to keep the test quick; each idle gap leaves 1.5 s for a turn on a loaded machine.
TTL_SECONDS = 4
IDLE_WITHIN_TTL_SECONDS = 2.5


def test_the_sixth_request_holds_exactly_the_last_six_messages_plus_the_new_one(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    chat = Chat(llm_service.url)
    for n in range(1, 6):
        result = chat.send(f"message number {n}")
        assert result.names[0] == "retrieval_start" and result.done["turn"] == n
    chat.send("message number 6")
    assert llm_messages(anthropic) == [
        ("user", "message number 3"), ("assistant", "You said: message number 3"),
        ("user", "message number 4"), ("assistant", "You said: message number 4"),
        ("user", "message number 5"), ("assistant", "You said: message number 5"),
        ("user", "message number 6"),
    ]
    assert len(anthropic.requests) == 6


def test_ten_turns_in_a_row_never_checkpoint(llm_service: ServiceProcess, anthropic: AnthropicServer) -> None:
    chat = Chat(llm_service.url)
    for n in range(1, 11):
        result = chat.send(f"turn {n}")
        assert "checkpoint" not in result.names
        assert result.done == {"type": "done", "turn": n, "finish_reason": "stop", "model": "claude-test"}


def test_a_window_of_two_sends_one_exchange_plus_the_new_message(
    make_service: ServiceFactory, anthropic: AnthropicServer
) -> None:
    service = make_service(SPOTTER_MEMORY_WINDOW="2")
    chat = Chat(service.url)
    for n in range(1, 4):
        chat.send(f"turn {n}")
    assert llm_messages(anthropic) == [("user", "turn 2"), ("assistant", "You said: turn 2"), ("user", "turn 3")]


def test_ttl_slides_then_expiry_checkpoints_and_the_sweeper_frees_memory(
    make_service: ServiceFactory, anthropic: AnthropicServer
) -> None:
    service = make_service(SPOTTER_MEMORY_TTL_SECONDS=str(TTL_SECONDS), SPOTTER_MEMORY_SWEEP_SECONDS="0.5")
    chat = Chat(service.url)
    for n in range(1, 4):
        assert "checkpoint" not in chat.send(f"sliding {n}").names
        if n < 3:
            time.sleep(IDLE_WITHIN_TTL_SECONDS)  # two idle gaps add up to more than one TTL
    assert metric(service, "spotter_memory_conversations") == 1
    deadline = time.monotonic() + TTL_SECONDS + 5  # the TTL, a sweep, and slack for a loaded machine
    while metric(service, "spotter_memory_conversations") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metric(service, "spotter_memory_conversations") == 0  # the sweeper purged it
    assert metric(service, "spotter_memory_tombstones") == 1
    result = chat.send("after the silence")
    assert result.names[0] == "checkpoint"
    assert result.events[0].data["reason"] == "memory_expired"
    assert result.events[0].data["message"]
    assert llm_messages(anthropic) == [("user", "after the silence")]
    assert result.done["turn"] == 4  # the counter continues from the client's number


def test_a_fresh_process_told_of_two_turns_says_memory_lost_and_continues_at_three(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    chat = Chat(llm_service.url)
    chat.turn = 2
    result = chat.send("do you remember me?")
    assert result.names[:2] == ["checkpoint", "retrieval_start"]
    assert result.events[0].data["reason"] == "memory_lost"
    assert result.done["turn"] == 3
    assert "checkpoint" not in chat.send("and now?").names  # never loops on checkpoints


def test_a_restart_mid_conversation_is_reported_as_memory_lost(
    make_service: ServiceFactory, anthropic: AnthropicServer
) -> None:
    service = make_service()
    chat = Chat(service.url)
    chat.send("my name is Sam")
    chat.send("I train three days a week")
    service.stop()
    restarted = make_service(data_dir=service.data_dir)
    chat.base_url = restarted.url
    result = chat.send("what is my name?")
    assert result.events[0].data["reason"] == "memory_lost"
    assert llm_messages(anthropic) == [("user", "what is my name?")]
    assert result.done["turn"] == 3


def test_no_checkpoint_for_a_new_conversation_or_when_the_client_missed_a_done(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    chat = Chat(llm_service.url)
    assert "checkpoint" not in chat.send("hello").names
    chat.send("second")
    chat.turn = 1  # the client never saw the second turn's done: nothing was lost
    result = chat.send("third")
    assert "checkpoint" not in result.names and result.done["turn"] == 3


def test_forgetting_a_conversation_erases_its_memory(llm_service: ServiceProcess, anthropic: AnthropicServer) -> None:
    chat = Chat(llm_service.url)
    chat.send("remember the word pineapple")
    response = httpx.delete(f"{llm_service.url}/v1/conversations/{chat.conversation}", headers=chat.headers())
    assert response.status_code == 204
    chat.turn = 0
    result = chat.send("what word?")
    assert "checkpoint" not in result.names
    assert llm_messages(anthropic) == [("user", "what word?")]


def test_another_users_identical_conversation_id_and_turn_number_is_a_fresh_conversation(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    conversation = uuid.uuid4()
    alice = Chat(llm_service.url, "credentials:1", conversation)
    alice.send("my secret phrase is purple-elephant-42")
    alice.send("keep it safe")
    bob = Chat(llm_service.url, "github:1", conversation)
    bob.turn = alice.turn
    result = bob.send("what is the secret phrase?")
    assert result.events[0].data["reason"] == "memory_lost"
    assert "purple-elephant-42" not in str(anthropic.requests[-1].body)
    assert "purple-elephant-42" not in result.body.decode()
