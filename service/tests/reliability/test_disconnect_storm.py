"""1,000 clients dropping at random points while 200 others stream, against ONE service process.

Afterwards nothing is left behind (open streams, running turns and LLM requests back to 0 on
/metrics; with the loopback LLM, no upstream stream open), RSS is back near its baseline, and
every conversation's next turn shows exactly the history and turn number its first turn left:
the first message remembered if and only if that turn was counted, never twice.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import llm_env, running_service, scaled
from tests.reliability.figures import RunFigures
from tests.reliability.storm import (
    DROP_MODES,
    IDLE_GAUGES,
    Conversation,
    drop,
    first_message,
    gauges,
    raw_request,
    settle,
    stream_whole,
    vm_rss_kib,
)
from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.service_process import ServiceFactory, ServiceProcess

STREAMING = scaled(200)
DROPPING = scaled(1000)
IN_FLIGHT = 150  # droppers connected at once, besides the streamers
RSS_SLACK_KIB = 64 * 1024


@pytest.fixture(scope="module")
def storm_service(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    env = {"SPOTTER_OFFLINE_TOKEN_DELAY_SECONDS": "0.01", "SPOTTER_MAX_OUTPUT_TOKENS": "40"}
    with running_service(tmp_path_factory.mktemp("storm"), env, built_index) as service:
        yield service


async def _wave(
    client: httpx.AsyncClient, service: ServiceProcess, streaming: int, dropping: int, label: str, seed: int
) -> tuple[list[Conversation], list[Conversation]]:
    """Run one storm; returns (streamers, droppers whose whole request reached the server)."""
    rng = random.Random(seed)
    streamers = [Conversation(f"storm:{label}-s{n}", f"ZQ{label}S{n}X") for n in range(streaming)]
    droppers = [Conversation(f"storm:{label}-d{n}", f"ZQ{label}D{n}X") for n in range(dropping)]
    slots = asyncio.Semaphore(IN_FLIGHT)
    arrived: list[Conversation] = []

    async def dropper(conversation: Conversation) -> None:
        async with slots:
            if await drop(client, service.port, conversation, rng.choice(DROP_MODES), rng):
                arrived.append(conversation)

    await asyncio.gather(
        *(stream_whole(client, service.url, c, first_message(c)) for c in streamers),
        *(dropper(c) for c in droppers),
    )
    return streamers, arrived


async def _next_turns(
    client: httpx.AsyncClient, url: str, conversations: list[Conversation], figures: RunFigures
) -> list[str]:
    """Send every conversation's next turn; returns what was wrong with each (nothing, ideally)."""
    slots = asyncio.Semaphore(100)
    problems: list[str] = []

    async def check(conversation: Conversation) -> None:
        seen = conversation.turn
        async with slots:
            await stream_whole(client, url, conversation, "What should I train today?")
        names = [name for name, _ in conversation.events]
        text = "".join(str(data["delta"]) for name, data in conversation.events if name == "response")
        remembered = f"my code is {conversation.tag}".lower() in text.lower()
        turn = conversation.turn
        if "checkpoint" in names or names[-1] != "done":
            problems.append(f"{conversation.tag}: {names}")
        elif seen and (turn, remembered) != (seen + 1, True):
            problems.append(f"{conversation.tag}: saw turn {seen}, then {turn}, remembered={remembered}")
        elif not seen and (turn, remembered) not in {(1, False), (2, True)}:
            problems.append(f"{conversation.tag}: turn {turn}, remembered={remembered}")
        if turn > seen + 2 or (seen and turn > seen + 1):
            figures.add("duplicate_turns")
        elif problems and problems[-1].startswith(conversation.tag):
            figures.add("turns_lost")

    await asyncio.gather(*(check(c) for c in conversations))
    return problems


async def test_a_thousand_drops_amid_two_hundred_streams_leak_nothing_and_lose_no_turn(
    storm_service: ServiceProcess, figures: RunFigures
) -> None:
    url = storm_service.url
    assert storm_service.process is not None
    pid = storm_service.process.pid
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        # A small wave first: caches, pools and allocator arenas reach their working size.
        warm_streamers, warm_arrived = await _wave(client, storm_service, 20, 100, "w", 1)
        assert not await _next_turns(client, url, warm_streamers + warm_arrived, figures)
        await settle(client, url)
        baseline = vm_rss_kib(pid)

        started = time.monotonic()
        streamers, arrived = await _wave(client, storm_service, STREAMING, DROPPING, "m", 2)
        storm_seconds = time.monotonic() - started
        figures.add("streams_held", 120 + STREAMING + DROPPING)
        figures.add("clients_disconnected", 100 + DROPPING)
        assert all(c.turn == 1 for c in streamers), "a streaming client did not get its whole answer"

        idle = await settle(client, url)
        leaked = sum(int(idle[name]) for name in IDLE_GAUGES)
        figures.add("leaked_tasks_or_connections", leaked)
        assert leaked == 0, {name: idle[name] for name in IDLE_GAUGES}

        problems = await _next_turns(client, url, streamers + arrived, figures)
        assert not problems, problems[:20]
        held = (await gauges(client, url))["spotter_memory_conversations"]
        assert held == len(warm_streamers + warm_arrived + streamers + arrived)
        await settle(client, url)
    grown = vm_rss_kib(pid) - baseline
    print(f"storm: {STREAMING}+{DROPPING} clients in {storm_seconds:.1f}s, RSS grew {grown} KiB")
    assert grown < RSS_SLACK_KIB, f"RSS grew by {grown} KiB"


async def test_drops_through_the_anthropic_path_close_every_upstream_stream(
    counted_service: ServiceFactory, anthropic: AnthropicServer, figures: RunFigures
) -> None:
    service = counted_service(**llm_env(anthropic))
    answer = " ".join(f"word{n}" for n in range(40))
    previous = anthropic.default
    anthropic.default = Behaviour(text=answer, delay=0.02)
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            streamers, arrived = await _wave(client, service, scaled(15), scaled(60), "a", 3)
            figures.add("streams_held", scaled(75))
            figures.add("clients_disconnected", scaled(60))
            assert await anthropic.wait_for_async(lambda s: s.open_streams == 0, within=15), "LLM stream left open"
            idle = await settle(client, service.url)
            leaked = sum(int(idle[name]) for name in IDLE_GAUGES) + anthropic.open_streams
            figures.add("leaked_tasks_or_connections", leaked)
            assert leaked == 0
            anthropic.default = previous
            anthropic.reset()
            for conversation in streamers + arrived:
                await stream_whole(client, service.url, conversation, f"next {conversation.tag}")
    finally:
        anthropic.default = previous
    wrong = []
    for request in anthropic.requests:
        messages = [(m["role"], m["content"]) for m in request.body["messages"]]
        tag = messages[-1][1].removeprefix("next ")
        history = messages[:-1]
        first = first_message(Conversation("storm:x", tag))
        if history and (len(history) != 2 or history[0] != ("user", first) or history[1][0] != "assistant"
                        or not answer.startswith(history[1][1])):
            wrong.append((tag, history))
    figures.add("turns_lost", len(wrong))
    assert not wrong, wrong[:5]
    assert len(anthropic.requests) == len(streamers + arrived)


async def test_clients_that_leave_around_the_handlers_end_stop_their_long_turns(
    counted_service: ServiceFactory,
) -> None:
    """Clients that send a whole turn and close within 30 ms: each 200 s turn stops, nothing is left.

    The storm's turns are short enough to end on their own; these would hold the conversation
    (409 `conversation-busy`) for minutes if a disconnect around the response's start were missed.
    """
    service = counted_service(SPOTTER_OFFLINE_TOKEN_DELAY_SECONDS="0.5", SPOTTER_MAX_OUTPUT_TOKENS="400")
    conversations = [Conversation(f"storm:early-{n}", f"ZQE{n}X") for n in range(scaled(150))]
    rng = random.Random(11)

    async def leave(conversation: Conversation) -> None:
        body = json.dumps({"message": first_message(conversation)}).encode()
        _, writer = await asyncio.open_connection("127.0.0.1", service.port)
        writer.write(raw_request(service.port, conversation, body, len(body)))
        await writer.drain()
        await asyncio.sleep(rng.uniform(0, 0.03))  # somewhere around the handler's end
        writer.close()

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(leave(c) for c in conversations))
        idle = await settle(client, service.url, within=10)
        assert {name: idle[name] for name in IDLE_GAUGES} == dict.fromkeys(IDLE_GAUGES, 0.0)


async def test_a_client_that_stops_reading_and_leaves_stops_its_turn(
    counted_service: ServiceFactory, anthropic: AnthropicServer
) -> None:
    """Clients that stop reading, so the server's writes back up, then leave: each turn stops at once.

    Seen in the 10-minute soak: the disconnect cancelled the body task inside a paused write, the
    stream was never closed, and its turn ran on with no reader until garbage collection, its
    conversation answering 409 `conversation-busy` to the client's next turn meanwhile.
    """
    service = counted_service(**llm_env(anthropic))
    previous = anthropic.default
    anthropic.default = Behaviour(text=" ".join(f"word{n}" for n in range(40_000)), delay=0.0005)
    conversations = [Conversation(f"storm:full-{n}", f"ZQF{n}X") for n in range(12)]
    loop = asyncio.get_running_loop()

    async def stop_reading_then_leave(conversation: Conversation) -> None:
        body = json.dumps({"message": first_message(conversation)}).encode()
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, never read
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", service.port))
            await loop.sock_sendall(sock, raw_request(service.port, conversation, body, len(body)))
            await asyncio.sleep(3)

    try:
        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(stop_reading_then_leave(c) for c in conversations))
            idle = await settle(client, service.url, within=3)
            assert {name: idle[name] for name in IDLE_GAUGES} == dict.fromkeys(IDLE_GAUGES, 0.0)
            assert await anthropic.wait_for_async(lambda s: s.open_streams == 0, within=3), "LLM stream left open"
    finally:
        anthropic.default = previous
