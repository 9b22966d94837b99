"""What conversation memory costs in Spotter: bytes per stored conversation (tracemalloc), and RSS
while 100,000 conversations pass through with the sweeper on.

Runs in-process on `spotter.memory.in_process.InProcessMemory`, the service's default backend;
`bench/baseline/memory_cost.py` measures LangChain's memory objects with the same protocol.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from spotter.llm.base import ChatMessage
from spotter.memory.in_process import InProcessMemory
from spotter.memory.model import ConversationKey

__all__ = ["main", "message_texts", "rss_bytes"]

WINDOW = 6  # messages, Spotter's default (3 exchanges)
MAX_CONVERSATIONS = 100_000


def message_texts(index: int, turn: int, user_chars: int, answer_chars: int) -> tuple[str, str]:
    """A conversation's user message and answer for one turn: fresh strings of the given sizes."""
    stem = f"{index:07d}-{turn:02d} "
    return (stem + "u" * (user_chars - len(stem)), stem + "a" * (answer_chars - len(stem)))


def rss_bytes() -> int:
    """This process's resident set size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def per_conversation(count: int, turns: int, user_chars: int, answer_chars: int) -> dict[str, Any]:
    memory = InProcessMemory(window=WINDOW, ttl_seconds=3600, max_conversations=MAX_CONVERSATIONS,
                             tombstone_seconds=86_400)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index in range(count):
        key = ConversationKey(f"credentials:{index}", uuid.uuid4())
        for turn in range(turns):
            user, answer = message_texts(index, turn, user_chars, answer_chars)
            await memory.append_turn(key, ChatMessage("user", user), ChatMessage("assistant", answer), turn + 1)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    kept_turns = min(turns, WINDOW // 2)
    text = kept_turns * (user_chars + answer_chars)
    per = used / count
    return {"turns": turns, "messages_held": 2 * kept_turns, "bytes_per_conversation": round(per),
            "text_bytes": text, "overhead_bytes": round(per - text)}


async def sweep_growth(total: int, rate: float, ttl: float, sweep_seconds: float, user_chars: int,
                       answer_chars: int) -> dict[str, Any]:
    memory = InProcessMemory(window=WINDOW, ttl_seconds=ttl, max_conversations=MAX_CONVERSATIONS,
                             tombstone_seconds=86_400)

    async def sweeper() -> None:  # what Services._sweep_forever does in the server
        while True:
            await asyncio.sleep(sweep_seconds)
            await memory.sweep()

    sweeping = asyncio.create_task(sweeper())
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    baseline_rss = rss_bytes()
    index = 0
    batch = max(1, int(rate / 20))
    next_sample = started
    while index < total or time.monotonic() - started < total / rate + 2 * ttl:
        now = time.monotonic()
        if index < total and index < (now - started) * rate:
            for _ in range(batch):
                key = ConversationKey(f"credentials:{index}", uuid.uuid4())
                user, answer = message_texts(index, 0, user_chars, answer_chars)
                await memory.append_turn(key, ChatMessage("user", user), ChatMessage("assistant", answer), 1)
                index += 1
        if now >= next_sample:
            stats = await memory.stats()
            samples.append({"t": round(now - started, 2), "inserted": index, "live": stats.conversations,
                            "tombstones": stats.tombstones,
                            "rss_mb": round((rss_bytes() - baseline_rss) / 2**20, 2)})
            next_sample += 0.5
        await asyncio.sleep(0.05)
    sweeping.cancel()
    return {"total": total, "rate": rate, "ttl_s": ttl, "samples": samples}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.memory_cost")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--user-chars", type=int, default=80)
    parser.add_argument("--answer-chars", type=int, default=800)
    parser.add_argument("--sweep-total", type=int, default=100_000)
    parser.add_argument("--sweep-rate", type=float, default=10_000)
    parser.add_argument("--ttl", type=float, default=2.0)
    parser.add_argument("--part", choices=("window", "sweep"), required=True,
                        help="one part per process, so RSS growth is not hidden by memory freed earlier")
    args = parser.parse_args(argv)
    if args.part == "window":
        output: dict[str, Any] = {
            "window": [asyncio.run(per_conversation(args.count, turns, args.user_chars, args.answer_chars))
                       for turns in (3, 10)]}
    else:
        output = {"sweep": asyncio.run(sweep_growth(args.sweep_total, args.sweep_rate, args.ttl, 1.0,
                                                    args.user_chars, args.answer_chars))}
    print(json.dumps(output))


if __name__ == "__main__":
    main()
