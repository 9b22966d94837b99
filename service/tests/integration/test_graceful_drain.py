"""SIGTERM drains: new turns get 503, open streams finish or end with a retryable error at the deadline."""

from __future__ import annotations

import threading
import time

import httpx

from tests.support.service_process import ServiceFactory
from tests.support.sse_client import Chat, Event


def test_sigterm_refuses_new_turns_and_ends_open_streams_at_the_deadline(make_service: ServiceFactory) -> None:
    service = make_service(anthropic=False, SPOTTER_OFFLINE_TOKEN_DELAY_SECONDS="0.2", SPOTTER_DRAIN_SECONDS="2")
    streams: list[list[Event]] = [[], []]
    chats = [Chat(service.url, f"credentials:{n}") for n in range(2)]

    def read(n: int) -> None:
        streams[n].extend(chats[n].stream("How should a beginner start deadlifting safely?"))

    readers = [threading.Thread(target=read, args=(n,)) for n in range(2)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 20
    while not all(any(e.event == "response" for e in s) for s in streams) and time.monotonic() < deadline:
        time.sleep(0.05)
    signalled = time.monotonic()
    service.terminate()
    time.sleep(0.3)
    refused = Chat(service.url, "credentials:9").send("a new turn during the drain")
    assert refused.status == 503
    assert refused.problem["type"] == "urn:spotter:problem:draining"
    assert int(refused.headers["retry-after"]) >= 1
    ready = httpx.get(f"{service.url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["draining"] == "draining"
    for reader in readers:
        reader.join(15)
    drained_in = time.monotonic() - signalled
    for events in streams:
        assert events[-1].event == "error", [e.event for e in events]
        assert events[-1].data["code"] == "shutting_down"
        assert events[-1].data["retryable"] is True
    assert 1.5 < drained_in < 4.0, drained_in  # the 2 s deadline, not the length of the answers
    assert service.process is not None
    assert service.process.wait(10) == 0
