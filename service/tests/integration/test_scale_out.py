"""Scale-out end to end: two real service processes (and a two-worker server) sharing one real Redis.

What must hold when a load balancer spreads one conversation over processes: history and turn
counter follow the conversation, one turn at a time (409), an Idempotency-Key resend replays,
joins or resumes the turn wherever it runs, a Redis outage is 503 (never 500) and heals on its own,
and a stream cut anywhere (even inside a UTF-8 character) resumes with exactly the missing events.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.anthropic_server import AnthropicServer, Behaviour, spotter_env
from tests.support.observe import llm_messages
from tests.support.redis_fixtures import disposable_redis_server, redis_server
from tests.support.redis_server import RedisServer
from tests.support.service_process import ServiceFactory, ServiceProcess, free_port
from tests.support.sse_client import Chat, Event, StreamResult, parse_sse

__all__ = ["disposable_redis_server", "redis_server"]

HEARTBEAT_SECONDS = 0.2
# Multi-byte text, one delta per word: "für" (2-byte ü) is event 4, "💪" (4 bytes) is event 6.
COACH = "Kniebeugen für Anfänger 💪 drei Sätze à acht Wiederholungen, Rücken gerade, Knie über den Füßen."
COACH_WORDS = COACH.split(" ")


@dataclass(frozen=True)
class Pair:
    """Two processes behind an imaginary load balancer, one Redis between them."""

    a: ServiceProcess
    b: ServiceProcess


@pytest.fixture(scope="module")
def pair(
    built_index: Path, llm_server: AnthropicServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    env = {**spotter_env(llm_server), "SPOTTER_MEMORY_URL": redis_server.url(1),
           "SPOTTER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)}
    a, b = (ServiceProcess(tmp_path_factory.mktemp(f"scale-{name}"), env, seed_index=built_index) for name in "ab")
    starting = threading.Thread(target=b.start)  # start-up is slow (index check): overlap the two
    starting.start()
    try:
        a.start()
        starting.join()
        assert b.process is not None and b.process.poll() is None, b.logs()
        yield Pair(a, b)
    finally:
        starting.join()
        a.stop()
        b.stop()


def _expected_history(turns: int, window: int = 6) -> list[tuple[str, str]]:
    history: list[tuple[str, str]] = []
    for n in range(1, turns):
        history += [("user", f"turn {n}"), ("assistant", f"You said: turn {n}")]
    return [*history[-window:], ("user", f"turn {turns}")]


def _stream_in_thread(chat: Chat, message: str, **headers: str) -> tuple[threading.Thread, list[StreamResult]]:
    results: list[StreamResult] = []
    thread = threading.Thread(target=lambda: results.append(chat.send(message, **headers)))
    thread.start()
    return thread, results


def _until(condition: Callable[[], bool], within: float = 10.0) -> bool:
    """Poll `condition` (the loopback LLM does not signal every delta, so waiting on it can miss one)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _first_stream_has(server: AnthropicServer, deltas: int) -> Callable[[], bool]:
    return lambda: bool(server.streams) and server.streams[0].deltas_sent >= deltas


# -- one conversation over two processes ----------------------------------------------------------


def test_a_conversation_alternates_between_processes_with_exact_history_and_turn_count(
    pair: Pair, anthropic: AnthropicServer
) -> None:
    chat = Chat(pair.a.url)
    for n in range(1, 7):
        chat.base_url = (pair.a, pair.b)[n % 2].url
        result = chat.send(f"turn {n}")
        assert result.status == 200, result.body
        assert "checkpoint" not in result.names
        assert result.done == {"type": "done", "turn": n, "finish_reason": "stop", "model": "claude-test"}
        assert llm_messages(anthropic) == _expected_history(n)
    assert len(anthropic.requests) == 6


@pytest.mark.parametrize("second_key", [None, "other-key"], ids=["no-key", "different-key"])
def test_a_turn_while_one_streams_on_the_other_process_is_409(
    pair: Pair, anthropic: AnthropicServer, second_key: str | None
) -> None:
    anthropic.script(Behaviour(text=" ".join(f"w{n}" for n in range(30)), delay=0.05))
    chat = Chat(pair.a.url)
    thread, first = _stream_in_thread(chat, "first", **{"Idempotency-Key": "first-key"})
    assert _until(_first_stream_has(anthropic, 2))
    other = Chat(pair.b.url, chat.user, chat.conversation)
    headers = {"Idempotency-Key": second_key} if second_key else {}
    busy = other.send("second", **headers)
    assert busy.status == 409, busy.body
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.problem["type"] == "urn:spotter:problem:conversation-busy"
    assert int(busy.headers["retry-after"]) >= 1
    thread.join(15)
    assert first[0].done["turn"] == 1
    assert len(anthropic.requests) == 1


def test_stop_received_by_the_other_process_stops_the_turn(pair: Pair, anthropic: AnthropicServer) -> None:
    anthropic.script(Behaviour(text=" ".join(f"w{n}" for n in range(200)), delay=0.05))
    chat = Chat(pair.a.url)
    thread, first = _stream_in_thread(chat, "a long answer", **{"Idempotency-Key": "stop-me"})
    assert _until(_first_stream_has(anthropic, 3))
    stopped_at = time.monotonic()
    other = Chat(pair.b.url, chat.user, chat.conversation)
    response = httpx.post(f"{pair.b.url}/v1/conversations/{chat.conversation}/cancel", headers=other.headers())
    assert response.status_code == 204
    thread.join(15)
    assert first[0].done["finish_reason"] == "interrupted"
    assert _until(lambda: anthropic.streams[0].closed_at is not None, within=5)
    assert anthropic.streams[0].closed_at - stopped_at < 1.0  # type: ignore[operator]


# -- idempotent resend across processes ----------------------------------------------------------


def test_a_resend_of_a_completed_turn_on_the_other_process_replays_it(pair: Pair, anthropic: AnthropicServer) -> None:
    chat = Chat(pair.a.url)
    first = chat.send("how do I deadlift?", **{"Idempotency-Key": "done-key"})
    assert first.done["turn"] == 1
    on_b = Chat(pair.b.url, chat.user, chat.conversation)
    again = on_b.send("how do I deadlift?", **{"Idempotency-Key": "done-key"})
    assert again.body == first.body
    assert again.events == first.events
    assert len(anthropic.requests) == 1
    resumed = on_b.send("how do I deadlift?", **{"Idempotency-Key": "done-key", "Last-Event-ID": "2"})
    assert resumed.events == first.events[2:]
    conflict = on_b.send("how do I squat?", **{"Idempotency-Key": "done-key"})
    assert conflict.status == 422
    assert conflict.problem["type"] == "urn:spotter:problem:idempotency-mismatch"
    stranger = Chat(pair.b.url, "github:99", chat.conversation)
    assert stranger.send("how do I deadlift?", **{"Idempotency-Key": "done-key"}).done["turn"] == 1
    assert len(anthropic.requests) == 2  # another user's identical key is not a replay


def test_a_resend_while_streaming_on_the_other_process_joins_it_live(pair: Pair, anthropic: AnthropicServer) -> None:
    # deltas slower than the heartbeat, so the follower on B must keep its stream alive by itself
    anthropic.script(Behaviour(text=" ".join(f"part{n}" for n in range(12)), delay=0.3))
    chat = Chat(pair.a.url)
    key = {"Idempotency-Key": "live-key"}
    owner_thread, owner = _stream_in_thread(chat, "a slow answer", **key)
    assert _until(_first_stream_has(anthropic, 2))
    on_b = Chat(pair.b.url, chat.user, chat.conversation)
    mismatch = on_b.send("another message", **key)
    assert mismatch.status == 422, mismatch.body
    assert mismatch.problem["type"] == "urn:spotter:problem:idempotency-mismatch"
    joined_thread, joined = _stream_in_thread(on_b, "a slow answer", **key)
    resumed_thread, resumed = _stream_in_thread(on_b, "a slow answer", **key, **{"Last-Event-ID": "3"})
    time.sleep(0.5)
    assert anthropic.streams[0].closed_at is None  # both joined while the turn was still streaming
    for thread in (owner_thread, joined_thread, resumed_thread):
        thread.join(20)
    full = owner[0]
    assert full.text == " ".join(f"part{n}" for n in range(12)) and full.done["turn"] == 1
    assert joined[0].events == full.events
    assert resumed[0].events == full.events[3:]
    assert joined[0].comments > 0  # heartbeats while waiting on the other process
    assert len(anthropic.requests) == 1
    busy = on_b.send("next", **{"Idempotency-Key": "next-key"})
    assert busy.status == 200 and busy.done["turn"] == 2  # the lock was released across processes


# -- Redis outage ---------------------------------------------------------------------------------


def _problem_503(result: StreamResult) -> None:
    assert result.status == 503, (result.status, result.body)
    assert result.headers["content-type"] == "application/problem+json"
    assert result.problem["type"] == "urn:spotter:problem:memory-unavailable"
    assert int(result.headers["retry-after"]) >= 1


def test_redis_down_is_503_with_retry_after_and_recovery_is_automatic(
    make_service: ServiceFactory, disposable_redis_server: RedisServer, anthropic: AnthropicServer
) -> None:
    url = disposable_redis_server.url()
    with ThreadPoolExecutor(2) as starting:  # start-up is slow (index check): overlap the two
        a, b = starting.map(lambda _: make_service(SPOTTER_MEMORY_URL=url), range(2))
    chat = Chat(a.url)
    assert chat.send("turn 1").done["turn"] == 1
    chat.base_url = b.url
    anthropic.script(Behaviour(text=" ".join(f"w{n}" for n in range(40)), delay=0.05))
    events: list[Event] = []
    for event in chat.stream("turn 2", **{"Idempotency-Key": "outage-key"}):
        events.append(event)
        if event.event == "response" and len(events) == 3:
            disposable_redis_server.terminate()  # Redis dies while the turn streams
    assert events[-1].event == "error"  # the stream still ends with one terminal event
    assert events[-1].data["code"] == "memory_unavailable" and events[-1].data["retryable"] is True
    for service in (a, b):
        for conversation in (chat.conversation, uuid.uuid4()):
            for headers in ({}, {"Idempotency-Key": "k-down"}):
                _problem_503(Chat(service.url, chat.user, conversation).send("while down", **headers))
        ready = httpx.get(f"{service.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["memory"] == "unavailable"
    disposable_redis_server.start()
    for service in (a, b):
        deadline = time.monotonic() + 15
        while httpx.get(f"{service.url}/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "readiness did not recover"
            time.sleep(0.2)
    chat.turn = 1
    after = chat.send("turn 3")
    assert after.status == 200, after.body
    assert after.events[0].data["reason"] == "memory_lost"  # the restarted Redis is empty
    assert after.done["turn"] == 2
    assert chat.send("turn 4").done["turn"] == 3
    for service in (a, b):
        assert "Traceback" not in service.logs()


# -- cut anywhere, resume with exactly the missing events -----------------------------------------


@dataclass(frozen=True)
class Cut:
    """Where the client loses the connection: after `events` complete events, and `into` bytes
    into the first multi-byte character of the next frame (0: at the frame boundary)."""

    events: int
    into: int = 0

    def offset(self, body: bytes) -> int | None:
        ends = _event_ends(body)
        if len(ends) < self.events:
            return None
        start = ends[self.events - 1] if self.events else 0
        if not self.into:
            return start
        lead = next((i for i in range(start, len(body)) if body[i] >= 0xC0), None)
        if lead is None or lead + self.into > len(body):
            return None
        assert body[start:lead].count(b"\n\n") == 0, "no multi-byte character in the next frame"
        return lead + self.into


def _event_ends(body: bytes) -> list[int]:
    """Offsets just past each complete event frame (heartbeat comments are not events)."""
    ends, position = [], 0
    while (end := body.find(b"\n\n", position)) != -1:
        if not body[position:end].startswith(b":"):
            ends.append(end + 2)
        position = end + 2
    return ends


def _cut_stream(chat: Chat, message: str, key: str, cut: Cut) -> tuple[list[Event], bytes]:
    """Read a keyed turn until `cut`, drop the connection; the complete events and the torn rest."""
    with httpx.stream("POST", f"{chat.base_url}/v1/chat", json={"message": message},
                      headers=chat.headers(**{"Idempotency-Key": key}), timeout=30) as response:
        assert response.status_code == 200
        body = b""
        for chunk in response.iter_raw():
            body += chunk
            offset = cut.offset(body)
            if offset is not None:
                break
        else:
            raise AssertionError(f"the stream ended before {cut}")
    received = body[:offset]
    complete = _event_ends(received)
    boundary = complete[-1] if complete else 0
    frames, _ = parse_sse(received[:boundary])
    events = [Event(int(f["id"]), f["event"], json.loads(f["data"])) for f in frames if "id" in f]
    return events, received[boundary:]


CUTS = [Cut(1), Cut(2), Cut(5), Cut(3, into=1), Cut(5, into=2)]


def _cut_and_resume(first: Chat, resume: Chat, anthropic: AnthropicServer, cut: Cut) -> None:
    anthropic.script(Behaviour(text=COACH, delay=0.08))
    key = f"cut-{uuid.uuid4()}"
    before, torn = _cut_stream(first, "Kniebeugen?", key, cut)
    assert [e.id for e in before] == list(range(1, cut.events + 1))
    if cut.into:
        assert torn, "the cut must leave part of a frame"
        with pytest.raises(UnicodeDecodeError):
            torn.decode("utf-8")  # the cut really is inside a character
    streams = anthropic.streams  # the resume joins the turn while it still runs (not its record)
    assert not streams or streams[0].closed_at is None
    last = {"Last-Event-ID": str(before[-1].id)} if before else {}
    resumed = resume.send("Kniebeugen?", **{"Idempotency-Key": key}, **last)
    assert resumed.status == 200, resumed.body
    ids = [e.id for e in resumed.events]
    assert ids == list(range(len(before) + 1, len(before) + 1 + len(ids)))  # no gap, no duplicate
    assert resumed.names[-1] == "done" and resumed.done["finish_reason"] == "stop"
    answer = "".join(e.data["delta"] for e in [*before, *resumed.events] if e.event == "response")
    assert answer == COACH
    replay = resume.send("Kniebeugen?", **{"Idempotency-Key": key})  # the whole turn, after the end
    assert replay.events == [*before, *resumed.events]
    assert len(anthropic.requests) == 1


@pytest.mark.parametrize("cut", CUTS, ids=str)
def test_a_cut_stream_resumes_exactly_in_process_memory(
    llm_service: ServiceProcess, anthropic: AnthropicServer, cut: Cut
) -> None:
    chat = Chat(llm_service.url)
    _cut_and_resume(chat, chat, anthropic, cut)


@pytest.mark.parametrize("cut", CUTS, ids=str)
def test_a_cut_stream_resumes_exactly_on_the_other_process(pair: Pair, anthropic: AnthropicServer, cut: Cut) -> None:
    chat = Chat(pair.a.url)
    _cut_and_resume(chat, Chat(pair.b.url, chat.user, chat.conversation), anthropic, cut)


# -- spotter serve --workers 2 --------------------------------------------------------------------


def test_several_workers_are_refused_with_in_process_memory(tmp_path: Path) -> None:
    service = ServiceProcess(tmp_path, {"SPOTTER_MEMORY_URL": "memory://"})
    completed = subprocess.run(
        [sys.executable, "-m", "spotter", "serve", "--workers", "2", "--port", str(free_port())],
        env=service.env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
    )
    assert completed.returncode == 2
    assert b"--workers > 1 needs SPOTTER_MEMORY_URL=redis://" in completed.stderr


def _worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes (its children, without multiprocessing's resource tracker)."""
    children = [int(pid) for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
    return [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def _connected_to(pid: int, port: int) -> bool:
    """Whether process `pid` holds an established TCP connection to 127.0.0.1:`port`."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == "01" and fields[9] in inodes:
            return True
    return False


def test_two_workers_with_redis_serve_one_conversation(
    built_index: Path, tmp_path: Path, redis_server: RedisServer, anthropic: AnthropicServer
) -> None:
    # ServiceProcess gives the environment and port; it starts one worker, so start the server here
    service = ServiceProcess(tmp_path, {**spotter_env(anthropic), "SPOTTER_MEMORY_URL": redis_server.url(2)})
    shutil.copytree(built_index, tmp_path, dirs_exist_ok=True)
    with (tmp_path / "workers.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "spotter", "serve", "--workers", "2", "--port", str(service.port)],
            env=service.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        # a worker is up once its memory sweeper holds a connection to Redis
        assert _until(lambda: process.poll() is None and len(workers := _worker_pids(process.pid)) == 2
                      and all(_connected_to(pid, redis_server.port) for pid in workers), within=180), \
            (tmp_path / "workers.log").read_text()
        workers = _worker_pids(process.pid)
        chat = Chat(service.url)
        served: list[int] = []
        for n in range(1, 31):
            anthropic.script(Behaviour(delay=0.2))  # slow enough to see which worker calls the LLM
            thread, results = _stream_in_thread(chat, f"turn {n}")
            assert _until(lambda: any(_connected_to(pid, anthropic.port) for pid in workers))
            served += [pid for pid in workers if _connected_to(pid, anthropic.port)]
            thread.join(20)
            assert results[0].done["turn"] == n and "checkpoint" not in results[0].names
            assert llm_messages(anthropic) == _expected_history(n)
            if set(served) == set(workers) and n >= 4:
                break
        assert set(served) == set(workers), f"one worker answered every turn: {served}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


