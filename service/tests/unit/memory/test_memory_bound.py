"""The cap bounds everything memory holds: flooding 100,000 conversations leaves memory flat."""

from __future__ import annotations

import os
import uuid

from spotter.llm.base import ChatMessage
from spotter.memory.in_process import InProcessMemory
from spotter.memory.model import ConversationKey, TurnRecord

CAP = 10_000
FLOOD = 100_000


async def _flood(memory: InProcessMemory, count: int) -> None:
    for n in range(count):
        key = ConversationKey(f"credentials:{n % 97}", uuid.uuid4())
        await memory.append_turn(key, ChatMessage("user", "How many sets?"), ChatMessage("assistant", "Three."), 1)
        await memory.save_record(key, TurnRecord(f"k{n}", "d" * 64, (b"id: 1\n\n",), "Three.", (6,), b"id: 3\n\n"))


async def test_flooding_100k_conversations_keeps_memory_flat() -> None:
    memory = InProcessMemory(window=6, ttl_seconds=3600, max_conversations=CAP, tombstone_seconds=86_400)
    await _flood(memory, 2 * CAP)  # full: every structure at its cap
    at_cap = _rss_kib()
    await _flood(memory, FLOOD - 2 * CAP)
    after_flood = _rss_kib()
    stats = await memory.stats()
    assert stats.conversations == CAP
    assert stats.tombstones == CAP
    assert stats.turn_records == CAP
    assert after_flood - at_cap < 8 * 1024, (at_cap, after_flood)  # KiB: 80,000 more conversations, no growth


def _rss_kib() -> int:
    """Current resident set (not the peak, which earlier tests in the process may have set)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
