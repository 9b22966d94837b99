"""Clients for the disconnect storm: whole streams, and drops at random points of a request.

Raw sockets give the drops httpx cannot make (half a body, a request sent and abandoned at once);
httpx streams give drops after some events. Tokens are minted per request, as the web app does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field

import httpx

from spotter.identity import mint_service_token
from tests.support.service_process import TEST_SECRET

__all__ = [
    "DROP_MODES",
    "IDLE_GAUGES",
    "Conversation",
    "drop",
    "first_message",
    "gauges",
    "raw_request",
    "settle",
    "sse_frames",
    "stream_whole",
    "vm_rss_kib",
]

#: Gauges that must be back to 0 once no client is connected.
IDLE_GAUGES = ("spotter_open_streams", "spotter_running_turns", "spotter_llm_requests_in_flight")
#: How a dropping client leaves: mid-body, right after sending, after the status line, after
#: k events, or after a random time.
DROP_MODES = ("mid_body", "after_request", "after_headers", "after_events", "after_time")


@dataclass(slots=True)
class Conversation:
    """One client's conversation and what it saw."""

    user: str
    tag: str
    conversation: uuid.UUID = field(default_factory=uuid.uuid4)
    turn: int = 0
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {mint_service_token(TEST_SECRET, self.user, 300)}",
            "X-Conversation-Id": str(self.conversation),
            "X-Conversation-Turn": str(self.turn),
            "Content-Type": "application/json",
        }


def first_message(conversation: Conversation) -> str:
    """A first-person fact the offline coach repeats on the next turn if it was remembered."""
    return f"I train four days a week and my code is {conversation.tag}."


def sse_frames(body: bytes) -> list[tuple[str, dict[str, object]]]:
    events = []
    for block in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


async def stream_whole(client: httpx.AsyncClient, url: str, conversation: Conversation, message: str) -> None:
    """Send a turn and read its stream to the end; records the events and the new turn count."""
    async with client.stream("POST", f"{url}/v1/chat", json={"message": message},
                             headers=conversation.headers()) as response:
        body = await response.aread()
    if response.status_code != 200:
        raise AssertionError(f"{response.status_code}: {body[:300]!r}")
    conversation.events = sse_frames(body)
    name, data = conversation.events[-1]
    if name == "done":
        turn = data["turn"]
        assert isinstance(turn, int)
        conversation.turn = turn


def raw_request(port: int, conversation: Conversation, body: bytes, declared: int) -> bytes:
    head = ["POST /v1/chat HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {declared}"]
    head += [f"{name}: {value}" for name, value in conversation.headers().items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def drop(
    client: httpx.AsyncClient, port: int, conversation: Conversation, mode: str, rng: random.Random
) -> bool:
    """Leave a turn at the point `mode` names; True when the whole request reached the server."""
    body = json.dumps({"message": first_message(conversation)}).encode()
    if mode in {"mid_body", "after_request", "after_headers"}:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            if mode == "mid_body":
                writer.write(raw_request(port, conversation, body[: len(body) // 2], len(body)))
                await writer.drain()
                return False
            writer.write(raw_request(port, conversation, body, len(body)))
            await writer.drain()
            if mode == "after_headers":
                await reader.readuntil(b"\r\n\r\n")
            return True
        finally:
            writer.close()
    url = f"http://127.0.0.1:{port}/v1/chat"
    if mode == "after_events":
        wanted = rng.randint(1, 30)
        async with client.stream("POST", url, content=body, headers=conversation.headers()) as response:
            seen = 0
            async for chunk in response.aiter_raw():
                seen += chunk.count(b"\n\n")
                if seen >= wanted:
                    break
        return True
    reading = asyncio.ensure_future(stream_whole(client, f"http://127.0.0.1:{port}", conversation,
                                                 first_message(conversation)))
    await asyncio.sleep(rng.uniform(0.0, 0.5))
    reading.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reading
    return True


async def gauges(client: httpx.AsyncClient, url: str) -> dict[str, float]:
    """Every unlabelled value on the service's /metrics."""
    try:
        text = (await client.get(f"{url}/metrics")).text
    except httpx.RemoteProtocolError:
        # The pooled keep-alive connection was closed by the server as the GET went out (seen
        # after a wave of 2,000 turns); a GET is safe to send again, on a fresh connection.
        text = (await client.get(f"{url}/metrics")).text
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if not line.startswith("#") and value:
            values[name] = float(value)
    return values


async def settle(client: httpx.AsyncClient, url: str, within: float = 30.0) -> dict[str, float]:
    """/metrics once the idle gauges are 0, or as they are after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        values = await gauges(client, url)
        if all(values[name] == 0 for name in IDLE_GAUGES) or time.monotonic() > deadline:
            return values
        await asyncio.sleep(0.2)


def vm_rss_kib(pid: int) -> int:
    """The process's resident set size from /proc, in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS line")
