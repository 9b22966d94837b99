"""Every conversation-memory backend, built the same way, for the one contract suite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from spotter.memory.backend import ConversationMemory
from spotter.memory.in_process import InProcessMemory
from spotter.memory.redis_memory import RedisMemory
from tests.support.redis_fixtures import disposable_redis_server, redis_server
from tests.support.redis_server import RedisServer

__all__ = ["BACKENDS", "MemoryFactory", "disposable_redis_server", "make_memory", "redis_server"]

MemoryFactory = Callable[..., ConversationMemory]

BACKENDS = ["in_process", "redis"]


@pytest.fixture(params=BACKENDS)
async def make_memory(request: pytest.FixtureRequest) -> AsyncIterator[MemoryFactory]:
    """A factory: make_memory(window=6, ttl=60, cap=1000, tombstone=60) -> a fresh backend."""
    made: list[ConversationMemory] = []
    server: RedisServer | None = request.getfixturevalue("redis_server") if request.param == "redis" else None
    prefix = f"spotter-test-{uuid.uuid4().hex}"  # each test's Redis keys are its own

    def factory(window: int = 6, ttl: float = 60, cap: int = 1000, tombstone: float = 60) -> ConversationMemory:
        memory: ConversationMemory
        if server is None:
            memory = InProcessMemory(window=window, ttl_seconds=ttl, max_conversations=cap, tombstone_seconds=tombstone)
        else:
            memory = RedisMemory.from_url(
                server.url(),
                window=window,
                ttl_seconds=ttl,
                max_conversations=cap,
                tombstone_seconds=tombstone,
                prefix=prefix,
            )
        made.append(memory)
        return memory

    yield factory
    for memory in made:
        if isinstance(memory, RedisMemory):
            keys = [k async for k in memory.client.scan_iter(match=f"{prefix}:*")]
            if keys:
                await memory.client.delete(*keys)
        await memory.close()
