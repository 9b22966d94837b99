"""The loopback LLM of the soak: it answers each request by what the request holds.

A long mixed load cannot script behaviours in a queue (concurrent turns would take each other's),
and cannot keep every request it received (hundreds of thousands, each with a system prompt).
So this server decides per request: a `[fault:NAME]` marker in the last user message picks a
scripted failure (the cases of `test_llm_faults.py`); during an outage every request fails with
529; otherwise the answer starts with the ids of every user message the request carries
(`seen S1C0M0 S1C0M1 .`), so the client reads the history the service sent from its own stream
and checks it against what it saw commit. Requests are counted, not kept.

It runs in a process of its own (`SoakLLMProcess`): in the test process it would share one GIL
and one core's worth of Python with thousands of clients, and its late bytes would show up as the
service's `llm_timeout`s.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import multiprocessing
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from types import TracebackType
from typing import Any

from tests.support.anthropic_server import (
    AnthropicServer,
    Behaviour,
    Message,
    Receive,
    RecordedRequest,
    Scope,
    Send,
)

__all__ = ["FAULT_MARKER", "HELD_ROLE", "MESSAGE_ID", "OUTAGE", "SoakLLM", "SoakLLMProcess", "seen_ids"]

#: The id every soak message carries: role and client number, conversation C, message M.
MESSAGE_ID = re.compile(r"\b[A-Z]\d+C\d+M\d+\b")
#: The role letter of the streaming clients, whose answers are held open (`delay` per word).
HELD_ROLE = "S"
FAULT_MARKER = re.compile(r"\[fault:([^\]]+)\]")
OUTAGE = Behaviour(status=529, retry_after=1)
BACKLOG = 2048
_SEEN = re.compile(r"^seen((?: [A-Z]\d+C\d+M\d+)*) \.")
_BODY: contextvars.ContextVar[bytes] = contextvars.ContextVar("soak_llm_body", default=b"")


def seen_ids(answer: str) -> list[str] | None:
    """The message ids an answer says its request carried, oldest first; None if it says none."""
    match = _SEEN.match(answer)
    return match.group(1).split() if match else None


@dataclass(frozen=True, slots=True)
class _Controls:
    """What the test process sets and reads across the process boundary (shared memory)."""

    delay: Synchronized[float]
    words: Synchronized[int]
    outage_until: Synchronized[float]  # time.monotonic() is one clock for every process here
    received: Synchronized[int]
    open_streams: Synchronized[int]
    port: Synchronized[int]


class SoakLLM(AnthropicServer):
    """`AnthropicServer` whose behaviour is chosen from each request's own messages."""

    def __init__(self, faults: Mapping[str, Behaviour], *, controls: _Controls) -> None:
        super().__init__(api_key="test-key")
        self.faults = dict(faults)
        self.controls = controls
        self.received = 0

    @property
    def delay(self) -> float:
        return self.controls.delay.value

    @property
    def words(self) -> int:
        return self.controls.words.value

    @property
    def outage_until(self) -> float:
        return self.controls.outage_until.value

    def start(self, port: int = 0) -> SoakLLM:
        super().start(port)
        assert self._socket is not None
        # Hundreds of turns may connect at once (the SDK keeps only 100 idle connections): a
        # backlog of 128 would drop SYNs and turn a burst into connect timeouts of the client's own.
        self._socket.listen(BACKLOG)
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:  # read the body here, so the behaviour can depend on it
            message = await receive()
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        _BODY.set(body)  # this request's own task context: `_next_behaviour` reads it
        await super().__call__(scope, replay, send)

    def _next_behaviour(self) -> Behaviour:
        try:
            request: Any = json.loads(_BODY.get())
            users = [_text(m["content"]) for m in request["messages"] if m["role"] == "user"]
        except (ValueError, KeyError, TypeError):
            return self.default
        fault = FAULT_MARKER.search(users[-1]) if users else None
        if fault is not None:
            return self.faults[fault.group(1)]
        if time.monotonic() < self.outage_until:
            return OUTAGE
        ids = [found.group(0) for text in users if (found := MESSAGE_ID.search(text))]
        filler = " ".join(f"rep{n}" for n in range(self.words))
        held = bool(ids) and all(i.startswith(HELD_ROLE) for i in ids)  # probes, faults, hostile: quick
        return Behaviour(text=" ".join(["seen", *ids, ".", filler]), delay=self.delay if held else 0.0)

    def _record(self, headers: Mapping[str, str], body: Any, status: int) -> None:
        with self._state.lock:
            self.received += 1
            self._state.lock.notify_all()

    @property
    def requests(self) -> list[RecordedRequest]:
        raise AttributeError("the soak LLM counts requests (`received`) instead of keeping them")


def _text(content: Any) -> str:
    return content if isinstance(content, str) else " ".join(block.get("text", "") for block in content)


class SoakLLMProcess:
    """A `SoakLLM` served by a child process; the test sets `delay` and `outage_until` and reads
    `received` and `open_streams` through shared memory."""

    api_key = "test-key"

    def __init__(self, faults: Mapping[str, Behaviour], *, words: int, delay: float) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the test process's threads
        self._controls = _Controls(
            context.Value("d", delay, lock=False), context.Value("i", words, lock=False),
            context.Value("d", 0.0, lock=False),
            context.Value("q", 0, lock=False), context.Value("q", 0, lock=False),
            context.Value("i", 0, lock=False),
        )
        self._stop = context.Event()
        self._process = context.Process(target=_serve, args=(dict(faults), self._controls, self._stop),
                                        name="soak-llm", daemon=True)

    @property
    def delay(self) -> float:
        return self._controls.delay.value

    @delay.setter
    def delay(self, value: float) -> None:
        self._controls.delay.value = value

    @property
    def words(self) -> int:
        return self._controls.words.value

    @words.setter
    def words(self, value: int) -> None:
        self._controls.words.value = value

    @property
    def outage_until(self) -> float:
        return self._controls.outage_until.value

    @outage_until.setter
    def outage_until(self, value: float) -> None:
        self._controls.outage_until.value = value

    @property
    def received(self) -> int:
        return self._controls.received.value

    @property
    def open_streams(self) -> int:
        return self._controls.open_streams.value

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._controls.port.value}"

    @property
    def pid(self) -> int:
        assert self._process.pid is not None, "not started"
        return self._process.pid

    async def wait_for_async(self, condition: Callable[[SoakLLMProcess], bool], within: float) -> bool:
        """Poll `condition` until it holds or `within` passes (the counters refresh every 0.1 s)."""
        deadline = time.monotonic() + within
        while not condition(self):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    def __enter__(self) -> SoakLLMProcess:
        self._process.start()
        deadline = time.monotonic() + 30
        while self._controls.port.value == 0:
            if not self._process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the soak LLM process did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._process.join(timeout=15)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _serve(faults: dict[str, Behaviour], controls: _Controls, stop: Any) -> None:
    """The child process: serve, publish the counters every 0.1 s, stop when told."""
    server = SoakLLM(faults, controls=controls).start()
    controls.port.value = server.port
    try:
        while not stop.wait(0.1):
            controls.received.value = server.received
            controls.open_streams.value = server.open_streams
    finally:
        server.stop()
