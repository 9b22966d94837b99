"""What conversation memory costs in the baseline: LangChain's ConversationBufferWindowMemory per
conversation in a cachetools TTLCache, measured with the protocol of `bench/memory_cost.py`.

Run with the baseline venv's Python (`python bench/baseline/memory_cost.py`); prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
import uuid
import warnings
from pathlib import Path
from typing import Any

from cachetools import TTLCache
from langchain_classic.memory import ConversationBufferWindowMemory

# LangChain flags its memory classes as deprecated; the plan names them, so they are measured.
warnings.filterwarnings("ignore", message=".*was deprecated in LangChain")

__all__ = ["main"]

EXCHANGES = 3  # the same 6-message window Spotter sends (the plan's k=6 would hold 12)


class Conversation:
    __slots__ = ("memory", "turns")

    def __init__(self) -> None:
        self.memory = ConversationBufferWindowMemory(k=EXCHANGES, return_messages=True)
        self.turns = 0


def message_texts(index: int, turn: int, user_chars: int, answer_chars: int) -> tuple[str, str]:
    stem = f"{index:07d}-{turn:02d} "
    return (stem + "u" * (user_chars - len(stem)), stem + "a" * (answer_chars - len(stem)))


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def commit(store: TTLCache[str, Conversation], key: str, user: str, answer: str) -> None:
    conversation = store.get(key) or Conversation()
    conversation.memory.save_context({"input": user}, {"output": answer})
    conversation.turns += 1
    store[key] = conversation


def per_conversation(count: int, turns: int, user_chars: int, answer_chars: int) -> dict[str, Any]:
    store: TTLCache[str, Conversation] = TTLCache(maxsize=100_000, ttl=3600)
    commit(store, "warm:up", "x", "y")  # first use imports and caches LangChain internals
    store.clear()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index in range(count):
        key = f"credentials:{index}:{uuid.uuid4()}"
        for turn in range(turns):
            commit(store, key, *message_texts(index, turn, user_chars, answer_chars))
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    held = len(next(iter(store.values())).memory.chat_memory.messages)
    text = held // 2 * (user_chars + answer_chars)
    per = used / count
    return {"turns": turns, "messages_held": held, "bytes_per_conversation": round(per),
            "text_bytes": text, "overhead_bytes": round(per - text)}


def sweep_growth(total: int, rate: float, ttl: float, user_chars: int, answer_chars: int) -> dict[str, Any]:
    store: TTLCache[str, Conversation] = TTLCache(maxsize=100_000, ttl=ttl)
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    baseline_rss = rss_bytes()
    index = 0
    batch = max(1, int(rate / 20))
    next_sample = next_sweep = started
    while index < total or time.monotonic() - started < total / rate + 2 * ttl:
        now = time.monotonic()
        if index < total and index < (now - started) * rate:
            for _ in range(batch):
                commit(store, f"credentials:{index}:{uuid.uuid4()}", *message_texts(index, 0, user_chars,
                                                                                    answer_chars))
                index += 1
        if now >= next_sweep:
            store.expire()
            next_sweep += 1.0
        if now >= next_sample:
            samples.append({"t": round(now - started, 2), "inserted": index, "live": len(store), "tombstones": 0,
                            "rss_mb": round((rss_bytes() - baseline_rss) / 2**20, 2)})
            next_sample += 0.5
        time.sleep(0.05)
    return {"total": total, "rate": rate, "ttl_s": ttl, "samples": samples}


def main() -> None:
    parser = argparse.ArgumentParser(prog="baseline memory_cost")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--user-chars", type=int, default=80)
    parser.add_argument("--answer-chars", type=int, default=800)
    parser.add_argument("--sweep-total", type=int, default=100_000)
    parser.add_argument("--sweep-rate", type=float, default=10_000)
    parser.add_argument("--ttl", type=float, default=2.0)
    parser.add_argument("--part", choices=("window", "sweep"), required=True)
    args = parser.parse_args()
    if args.part == "window":
        output: dict[str, Any] = {
            "window": [per_conversation(args.count, turns, args.user_chars, args.answer_chars) for turns in (3, 10)]}
    else:
        output = {"sweep": sweep_growth(args.sweep_total, args.sweep_rate, args.ttl, args.user_chars,
                                        args.answer_chars)}
    print(json.dumps(output))


if __name__ == "__main__":
    main()
