"""The load client: raw asyncio HTTP/1.1 streams that parse SSE as it arrives and time each turn.

Run as its own process (`python -m bench.load_client MODE ...`, pinned by the runner to the
client core) so it never shares the server's core; prints one JSON object on stdout.
Modes: `check` (every question, whole conversations, each frame validated against the spec's
grammar; returns the answers), `throughput` (C concurrent keep-alive streams for D seconds),
`scale` (N open slow streams; heartbeat delay, dropped streams).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from bench.workload import AUTH_SECRET, CONVERSATION_TURNS, QUESTIONS
from spotter.identity import mint_service_token

__all__ = ["Connection", "Tokens", "TurnResult", "main", "summary_ms"]

TOKEN_REFRESH_SECONDS = 200.0
SERVICE_DIR = Path(__file__).resolve().parent.parent / "service"


class Tokens:
    """Bearer tokens per user, re-minted before their 300 s lifetime runs out."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    def get(self, user: str) -> str:
        now = time.monotonic()
        found = self._tokens.get(user)
        if found is None or now - found[1] > TOKEN_REFRESH_SECONDS:
            found = (mint_service_token(AUTH_SECRET, user, 300), now)
            self._tokens[user] = found
        return found[0]


@dataclass(slots=True)
class TurnResult:
    """What one turn looked like from the client."""

    status: int = 0
    ttfb: float | None = None  # seconds from sending to the status line (response headers begin)
    ttfe: float | None = None  # seconds from sending to the first event (not a ping)
    ttle: float | None = None  # ... to the last event
    events: int = 0
    done_turn: int | None = None
    names: list[str] = field(default_factory=list)
    deltas: list[str] = field(default_factory=list)
    pings: list[tuple[float, float]] = field(default_factory=list)  # (when, gap before it - interval)
    documents_at: float | None = None
    raw: bytes = b""
    error: str | None = None


class Connection:
    """One keep-alive HTTP/1.1 connection to a server; `path` is where chat turns go (`/api/v1/chat`
    through the web app's proxy)."""

    def __init__(self, host: str, port: int, path: str = "/v1/chat") -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def turn(self, token: str, conversation: uuid.UUID, turn: int, message: str, *,
                   keep_raw: bool = False, keep_deltas: bool = False, heartbeat: float | None = None,
                   on_event: Any = None, result: TurnResult | None = None) -> TurnResult:
        """Send one chat turn and read its stream to the end."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        body = json.dumps({"message": message}).encode()
        head = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {token}\r\nX-Conversation-Id: {conversation}\r\n"
                f"X-Conversation-Turn: {turn}\r\nContent-Type: application/json\r\n"
                f"Accept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        result = result or TurnResult()
        started = time.perf_counter()
        self.writer.write(head + body)
        reader = self.reader
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        result.ttfb = time.perf_counter() - started
        result.status = int(status_line.split()[1])
        chunked, length, closing = False, 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "content-length":
                length = int(value)
            elif name == "connection" and value == "close":
                closing = True
        if not chunked:
            result.raw = await reader.readexactly(length)
            result.error = f"status {result.status}"
            if closing:
                self.close()
            return result
        buffer = b""
        last_frame_at = started
        raw_parts: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            chunk = (await reader.readexactly(size + 2))[:-2]
            if keep_raw:
                raw_parts.append(chunk)
            buffer += chunk
            now = time.perf_counter()
            while (end := buffer.find(b"\n\n")) >= 0:
                block, buffer = buffer[:end], buffer[end + 2:]
                if block.startswith(b":"):
                    if heartbeat is not None:
                        result.pings.append((now, now - last_frame_at - heartbeat))
                    last_frame_at = now
                    continue
                last_frame_at = now
                result.events += 1
                if result.ttfe is None:
                    result.ttfe = now - started
                result.ttle = now - started
                event = block.split(b"\n", 2)[1][7:].decode()
                result.names.append(event)
                if on_event is not None:
                    on_event(event, now)
                if event == "response" and keep_deltas:
                    data = json.loads(block.split(b"\ndata: ", 1)[1])
                    result.deltas.append(data["delta"])
                elif event == "documents_found":
                    result.documents_at = now
                elif event == "done":
                    result.done_turn = json.loads(block.split(b"\ndata: ", 1)[1])["turn"]
        result.raw = b"".join(raw_parts)
        if closing:
            self.close()
        return result


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict[str, float | None]:
    """p50/p99/max of seconds, in milliseconds."""
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 3)
    return {"p50": ms(_percentile(values, 50)), "p99": ms(_percentile(values, 99)),
            "max": ms(max(values) if values else None), "n": len(values)}


# -- modes ----------------------------------------------------------------------------------------

async def check(host: str, port: int, validate_questions: int) -> dict[str, Any]:
    """Whole conversations for every question; every frame checked against the spec."""
    from tests.support.sse_client import parse_sse, validate_event

    tokens = Tokens()
    connection = Connection(host, port)
    answers: dict[str, list[str]] = {}
    problems: list[str] = []
    frames_checked = 0
    for index, question in enumerate(QUESTIONS):
        conversation = uuid.uuid4()
        user = f"check:u{index}"
        turn = 0
        for position_in_conversation in range(CONVERSATION_TURNS):
            result = await connection.turn(tokens.get(user), conversation, turn, question,
                                           keep_raw=True, keep_deltas=True)
            # the spec check is slow: first turns of the first questions; every turn: order, ids, turns
            validate = position_in_conversation == 0 and index < validate_questions
            if result.status != 200:
                problems.append(f"{question!r}: status {result.status}: {result.raw[:200]!r}")
                break
            frames, _ = parse_sse(result.raw)
            for position, item in enumerate(frames, start=1):
                try:
                    if validate:
                        validate_event(item)
                        frames_checked += 1
                except Exception as error:
                    problems.append(f"{question!r}: frame {position} breaks the grammar: {error}")
                if item.get("id") != str(position):
                    problems.append(f"{question!r}: frame {position} has id {item.get('id')}")
            names = [f["event"] for f in frames]
            if names[:2] != ["retrieval_start", "documents_found"] or names[-1] != "done" or \
                    set(names[2:-1]) != {"response"}:
                problems.append(f"{question!r}: unexpected event order {names[:3]}...{names[-2:]}")
            if result.done_turn != turn + 1:
                problems.append(f"{question!r}: done.turn {result.done_turn}, expected {turn + 1}")
            previous = answers.setdefault(question, result.deltas)
            if previous != result.deltas:
                problems.append(f"{question!r}: answer changed between turns")
            turn = result.done_turn or turn + 1
    connection.close()
    return {"answers": answers, "problems": problems, "frames_checked": frames_checked}


async def throughput(host: str, port: int, concurrency: int, duration: float, tag: str) -> dict[str, Any]:
    """`concurrency` keep-alive clients in a loop of turns for `duration` seconds."""
    tokens = Tokens()
    start = time.perf_counter()
    deadline = start + duration
    ttfe: list[float] = []
    turns = 0
    events = 0
    errors: list[str] = []

    def count_event(_: str, at: float) -> None:
        nonlocal events
        if at <= deadline:
            events += 1

    async def worker(index: int) -> None:
        nonlocal turns
        connection = Connection(host, port)
        user = f"{tag}:w{index}"
        question_index = index
        try:
            while time.perf_counter() < deadline:
                conversation, turn = uuid.uuid4(), 0
                for _ in range(CONVERSATION_TURNS):
                    if time.perf_counter() >= deadline:
                        break
                    question = QUESTIONS[question_index % len(QUESTIONS)]
                    question_index += 1
                    result = await connection.turn(tokens.get(user), conversation, turn, question,
                                                   on_event=count_event)
                    if result.error or result.done_turn is None:
                        errors.append(result.error or f"no done event ({result.names[-1:]})")
                        connection.close()
                        break
                    turn = result.done_turn
                    if result.ttfe is not None:
                        ttfe.append(result.ttfe)
                    if time.perf_counter() <= deadline:  # completed inside the window
                        turns += 1
        except (OSError, ValueError, asyncio.IncompleteReadError) as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return {"concurrency": concurrency, "duration_s": duration, "turns": turns, "events": events,
            "turns_per_s": round(turns / duration, 2), "events_per_s": round(events / duration, 1),
            "ttfe_ms": summary_ms(ttfe), "errors": len(errors), "error_samples": errors[:5]}


async def scale(host: str, port: int, streams: int, rate: float, hold: float, heartbeat: float,
                settle_timeout: float) -> dict[str, Any]:
    """Open `streams` slow streams at `rate`/s, wait until each has its documents, hold, close."""
    tokens = Tokens()
    results: list[TurnResult] = []
    opened = 0
    connections: list[Connection] = []
    hold_window: list[float] = [float("inf"), float("inf")]

    async def one(index: int) -> None:
        nonlocal opened
        connection = Connection(host, port)
        connections.append(connection)
        result = TurnResult()
        results.append(result)
        try:
            await connection.open()
            opened += 1
            await connection.turn(tokens.get(f"scale:u{index}"), uuid.uuid4(), 0,
                                  QUESTIONS[index % len(QUESTIONS)], heartbeat=heartbeat, result=result)
        except (OSError, ValueError, asyncio.IncompleteReadError) as error:
            if time.perf_counter() < hold_window[1]:
                result.error = f"{type(error).__name__}: {error}"

    tasks = []
    ramp_started = time.perf_counter()
    for index in range(streams):
        tasks.append(asyncio.create_task(one(index)))
        await asyncio.sleep(1 / rate)
    settle_deadline = time.perf_counter() + settle_timeout
    settled_count = 0
    while time.perf_counter() < settle_deadline and settled_count < streams:
        await asyncio.sleep(0.2)
        settled_count = sum(r.documents_at is not None for r in results)  # retrieval done: streaming
    settled = time.perf_counter()
    hold_window[0], hold_window[1] = settled, settled + hold
    print(json.dumps({"phase": "hold", "at": time.time()}), file=sys.stderr, flush=True)
    await asyncio.sleep(hold)
    alive = sum(1 for t in tasks if not t.done())
    finished = sum(1 for r in results if r.done_turn is not None)
    dropped = [r.error for r in results if r.error is not None]
    for connection in connections:
        connection.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    start, end = hold_window
    delays_in_hold = [delay for r in results for at, delay in r.pings if start <= at <= end]
    return {"streams": streams, "opened": opened, "alive_at_end": alive, "finished": finished,
            "dropped": len(dropped), "drop_samples": dropped[:5],
            "ramp_s": round(settled - ramp_started, 1), "hold_s": hold,
            "documents_received": sum(r.documents_at is not None for r in results),
            "heartbeat_delay_ms": summary_ms(delays_in_hold)}


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(SERVICE_DIR))  # the test suite's SSE parser and spec validator
    parser = argparse.ArgumentParser(prog="bench.load_client")
    parser.add_argument("mode", choices=("check", "throughput", "scale"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--tag", default="bench")
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--hold", type=float, default=10.0)
    parser.add_argument("--heartbeat", type=float, default=1.0)
    parser.add_argument("--settle-timeout", type=float, default=180.0)
    parser.add_argument("--validate-questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args(argv)
    if args.mode == "check":
        output = uvloop.run(check(args.host, args.port, args.validate_questions))
    elif args.mode == "throughput":
        output = uvloop.run(throughput(args.host, args.port, args.concurrency, args.duration, args.tag))
    else:
        output = uvloop.run(scale(args.host, args.port, args.streams, args.rate, args.hold, args.heartbeat,
                                   args.settle_timeout))
    print(json.dumps(output))


if __name__ == "__main__":
    main()
