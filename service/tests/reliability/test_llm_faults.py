"""LLM failures on cue: each ends the stream with the spec'd `error`, commits only what was said,
and the next turn works.

The loopback LLM fails before its first token (HTTP 500, 401, 429 and 529 with `retry-after`, an
`event: error` straight away, a silent stream, headers that never come), or after some text (an
`event: error` mid-stream, a stream that goes silent). The service's LLM timeout is 2 s.
"""

from __future__ import annotations

import time

import pytest

from tests.reliability.figures import RunFigures
from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.observe import llm_messages
from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat

TIMEOUT = 2.0
PARTIAL = "Squat three sets of five reps then rest two minutes"

BEFORE_TEXT = {
    "HTTP 500": (Behaviour(status=500), "llm_unavailable", True),
    "HTTP 401": (Behaviour(status=401), "llm_auth", False),
    "HTTP 429 with retry-after": (Behaviour(status=429, retry_after=7), "llm_rate_limited", True),
    "HTTP 529 with retry-after": (Behaviour(status=529, retry_after=3), "llm_overloaded", True),
    "HTTP 400": (Behaviour(status=400), "llm_bad_request", False),
    "error event before any text": (Behaviour(error_after=0), "llm_overloaded", True),
    "silent after message_start": (Behaviour(hang_after=0), "llm_timeout", True),
    "headers never sent": (Behaviour(headers_delay=30), "llm_timeout", True),
}

AFTER_TEXT = {
    "overloaded mid-stream": (Behaviour(text=PARTIAL, error_after=3), "llm_overloaded", True),
    "api_error mid-stream": (Behaviour(text=PARTIAL, error_after=4, error_type="api_error"), "llm_unavailable", True),
    "silent mid-stream": (Behaviour(text=PARTIAL, hang_after=5), "llm_timeout", True),
}


def _assert_no_open_llm_streams(anthropic: AnthropicServer) -> None:
    assert anthropic.wait_for(lambda s: s.open_streams == 0, within=5), "an LLM stream was left open"


@pytest.mark.parametrize("case", BEFORE_TEXT, ids=list(BEFORE_TEXT))
def test_a_failure_before_any_text_commits_nothing_and_the_next_turn_works(
    reliability_service: ServiceProcess, anthropic: AnthropicServer, figures: RunFigures, case: str
) -> None:
    behaviour, code, retryable = BEFORE_TEXT[case]
    anthropic.script(behaviour)
    chat = Chat(reliability_service.url)
    started = time.monotonic()
    failed = chat.send("How many sets of squats should I do?")
    elapsed = time.monotonic() - started
    figures.add("faults_injected")
    figures.add("streams_held")
    assert failed.status == 200
    assert failed.names == ["retrieval_start", "documents_found", "error"], failed.names
    assert failed.events[-1].data["code"] == code
    assert failed.events[-1].data["retryable"] is retryable
    assert elapsed < TIMEOUT + 4, elapsed  # a hang is cut at the LLM timeout, not left open
    _assert_no_open_llm_streams(anthropic)

    following = chat.send("And how long should I rest?")
    figures.add("streams_held")
    assert following.names[-1] == "done" and "checkpoint" not in following.names
    assert following.done["turn"] == 1  # the failed turn was not counted
    assert llm_messages(anthropic) == [("user", "And how long should I rest?")]  # nor remembered
    figures.add("faults_survived")


@pytest.mark.parametrize("case", AFTER_TEXT, ids=list(AFTER_TEXT))
def test_a_failure_after_some_text_commits_the_partial_answer_and_the_next_turn_sees_it(
    reliability_service: ServiceProcess, anthropic: AnthropicServer, figures: RunFigures, case: str
) -> None:
    behaviour, code, retryable = AFTER_TEXT[case]
    anthropic.script(behaviour)
    chat = Chat(reliability_service.url)
    failed = chat.send("Give me a squat plan")
    figures.add("faults_injected")
    figures.add("streams_held")
    assert failed.names[:2] == ["retrieval_start", "documents_found"]
    assert set(failed.names[2:-1]) == {"response"} and failed.names[-1] == "error", failed.names
    assert failed.events[-1].data["code"] == code
    assert failed.events[-1].data["retryable"] is retryable
    partial = failed.text
    assert partial and PARTIAL.startswith(partial) and partial != PARTIAL
    _assert_no_open_llm_streams(anthropic)

    following = chat.send("Go on")  # the client never saw a `done`, so it still sends turn 0
    figures.add("streams_held")
    assert following.names[-1] == "done" and "checkpoint" not in following.names
    assert following.done["turn"] == 2
    assert llm_messages(anthropic) == [
        ("user", "Give me a squat plan"),
        ("assistant", partial),
        ("user", "Go on"),
    ]
    figures.add("faults_survived")
