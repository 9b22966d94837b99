"""Per-user limits: turns per minute and concurrent streams, each a 429 problem with Retry-After."""

from __future__ import annotations

import threading

from tests.reliability.conftest import llm_env
from tests.reliability.figures import RunFigures
from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.service_process import ServiceFactory
from tests.support.sse_client import Chat, StreamResult


def _assert_rate_limited(result: StreamResult, detail: str) -> int:
    assert result.status == 429, result.body[:300]
    assert result.headers["content-type"] == "application/problem+json"
    assert result.problem["type"] == "urn:spotter:problem:rate-limited"
    assert detail in result.problem["detail"]
    retry_after = int(result.headers["retry-after"])
    assert 1 <= retry_after <= 60
    return retry_after


def test_turns_per_minute_and_open_streams_per_user_are_capped(
    counted_service: ServiceFactory, anthropic: AnthropicServer, figures: RunFigures
) -> None:
    service = counted_service(**llm_env(anthropic, SPOTTER_RATE_LIMIT_PER_MINUTE="4",
                                        SPOTTER_MAX_STREAMS_PER_USER="2"))
    slow = Behaviour(text="word " * 60, delay=0.05)
    anthropic.script(slow, slow)
    streams: list[StreamResult] = []
    readers = [threading.Thread(target=lambda: streams.append(Chat(service.url, "credentials:many").send("long")))
               for _ in range(2)]
    for reader in readers:
        reader.start()
    assert anthropic.wait_for(lambda s: len(s.streams) == 2, within=10)  # both turns are generating
    _assert_rate_limited(Chat(service.url, "credentials:many").send("a third stream"), "streaming turns at once")
    assert Chat(service.url, "credentials:other").send("someone else").status == 200
    for reader in readers:
        reader.join(30)
    assert [s.done["finish_reason"] for s in streams] == ["stop", "stop"]
    assert Chat(service.url, "credentials:many").send("my streams ended").status == 200

    chat = Chat(service.url, "credentials:hasty")
    for n in range(4):
        assert chat.send(f"turn {n}").status == 200
    retry_after = _assert_rate_limited(chat.send("one too many"), "turns per minute")
    assert chat.turn == 4  # the refused turn touched nothing
    figures.add("inputs_tried", 2)
    assert retry_after >= 50  # the window is a minute and the four turns were just now
