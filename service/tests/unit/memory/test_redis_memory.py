"""What only the Redis backend promises: one memory shared by processes, outages reported fast
as BackendUnavailable, recovery without a new client, and a key count bounded by the cap."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from spotter.errors import BackendUnavailable
from spotter.llm.base import ChatMessage
from spotter.memory.model import ConversationKey, LossReason, TurnRecord
from spotter.memory.redis_memory import RedisMemory
from spotter.settings import Settings
from tests.support.redis_server import RedisServer

OUTAGE_ANSWER_SECONDS = 3.0


def key(user: str = "credentials:1") -> ConversationKey:
    return ConversationKey(user, uuid.uuid4())


def say(n: int) -> tuple[ChatMessage, ChatMessage]:
    return ChatMessage("user", f"question {n}"), ChatMessage("assistant", f"answer {n}")


def record(idempotency_key: str) -> TurnRecord:
    return TurnRecord(idempotency_key, "digest", (b"id: 1\n\n",), "hello world", (5, 6), b"id: 4\n\n")


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., RedisMemory]]:
    """Opens RedisMemory clients (closed after the test); each call is another 'process'."""
    opened: list[RedisMemory] = []

    def open_memory(url: str, prefix: str, *, ttl: float = 60, cap: int = 1000, tombstone: float = 60) -> RedisMemory:
        memory = RedisMemory.from_url(
            url, window=6, ttl_seconds=ttl, max_conversations=cap, tombstone_seconds=tombstone, prefix=prefix
        )
        opened.append(memory)
        return memory

    yield open_memory
    for memory in opened:
        await memory.close()


def unique_prefix() -> str:
    return f"spotter-test-{uuid.uuid4().hex}"


async def test_from_settings_uses_the_memory_url_and_settings(redis_server: RedisServer) -> None:
    settings = Settings(memory_url=redis_server.url(2), memory_window=2, memory_max_conversations=5)
    memory = RedisMemory.from_settings(settings)
    try:
        await memory.client.flushdb()
        k = key()
        for n in range(1, 4):
            await memory.append_turn(k, *say(n), n)
        loaded = await memory.load(k)
        assert loaded.state is not None
        assert loaded.state.messages == say(3)
        assert await memory.client.exists(f"spotter:conv:{k}") == 1  # the production prefix
        assert 3590_000 < await memory.client.pttl(f"spotter:win:{k}") <= 3600_000
    finally:
        await memory.client.flushdb()
        await memory.close()


async def test_two_clients_share_one_memory(redis_server: RedisServer, connect: Callable[..., RedisMemory]) -> None:
    prefix = unique_prefix()
    first, second = connect(redis_server.url(), prefix, ttl=0.4), connect(redis_server.url(), prefix, ttl=0.4)
    k = key()
    await first.append_turn(k, *say(1), 1)
    await second.append_turn(k, *say(2), 2)
    await first.save_record(k, record("idem-1"))
    loaded = await first.load(k)
    assert loaded.state is not None
    assert loaded.state.turns == 2
    assert loaded.state.messages == (*say(1), *say(2))
    assert await second.find_record(k, "idem-1") == record("idem-1")
    assert (await second.stats()).conversations == 1

    await asyncio.sleep(0.6)  # one process lets it expire; the other sees the tombstone
    assert (await second.load(k)).tombstone is LossReason.EXPIRED
    assert (await first.load(k)).tombstone is LossReason.EXPIRED


async def test_forget_user_in_one_client_erases_for_all(
    redis_server: RedisServer, connect: Callable[..., RedisMemory]
) -> None:
    prefix = unique_prefix()
    first, second = connect(redis_server.url(), prefix), connect(redis_server.url(), prefix)
    mine, theirs = [key("credentials:7") for _ in range(3)], key("credentials:70")
    for k in (*mine, theirs):
        await first.append_turn(k, *say(1), 1)
        await first.save_record(k, record("r"))
    assert await second.forget_user("credentials:7") == 3
    assert [(await first.load(k)).state for k in mine] == [None, None, None]
    assert (await first.load(theirs)).state is not None
    assert await first.stats() == await second.stats()
    assert (await first.stats()).turn_records == 1
    held = {kind: f"{prefix}:{kind}:{theirs}" for kind in ("conv", "win", "rec")}
    expected = {*held.values(), f"{prefix}:lru", f"{prefix}:recs"}
    assert set(await first.client.keys(f"{prefix}:*")) == {name.encode() for name in expected}


async def test_the_lock_is_exclusive_across_clients(
    redis_server: RedisServer, connect: Callable[..., RedisMemory]
) -> None:
    prefix = unique_prefix()
    first, second = connect(redis_server.url(), prefix), connect(redis_server.url(), prefix)
    k = key()
    results = await asyncio.gather(*(m.acquire_lock(k, f"owner-{i}", 5) for i, m in enumerate((first, second) * 5)))
    assert sum(results) == 1  # ten racing acquirers, one winner
    index = results.index(True)
    winner = f"owner-{index}"
    holder, other = (first, second) if index % 2 == 0 else (second, first)
    assert not await other.renew_lock(k, "owner-x", 5)
    await other.release_lock(k, "owner-x")
    assert not await other.acquire_lock(k, "owner-x", 5)
    await other.release_lock(k, winner)  # any process may release on the owner's behalf with the token
    assert await holder.acquire_lock(k, "owner-y", 0.2)
    await asyncio.sleep(0.3)
    assert await other.acquire_lock(k, "owner-z", 5)


async def test_memory_stays_bounded_by_the_cap(redis_server: RedisServer, connect: Callable[..., RedisMemory]) -> None:
    cap = 10
    url = redis_server.url(1)  # a database of its own, so DBSIZE counts only this test's keys
    memory = connect(url, unique_prefix(), ttl=0.5, cap=cap, tombstone=0.5)
    await memory.client.flushdb()
    keys = [key(f"credentials:{n}") for n in range(3 * cap)]
    for n, k in enumerate(keys):
        for turn in range(1, 5):
            await memory.append_turn(k, *say(turn), turn)
            await memory.save_record(k, record(f"idem-{n}-{turn}"))
    # per held conversation: turns, window, records; per tombstone one key; plus three indexes
    assert await memory.client.dbsize() <= 3 * cap + cap + 3
    stats = await memory.stats()
    assert (stats.conversations, stats.tombstones, stats.turn_records) == (cap, cap, 2 * cap)
    assert (await memory.load(keys[0])).state is None
    assert (await memory.load(keys[-cap - 1])).tombstone is LossReason.EVICTED
    window = (await memory.load(keys[-1])).state
    assert window is not None
    assert len(window.messages) == 6

    await asyncio.sleep(0.6)  # windows expire (tombstones replace them), then the tombstones expire
    assert await memory.sweep() == cap + cap  # the held ones buried, the evicted ones' tombstones gone
    assert (await memory.stats()).tombstones == cap
    await asyncio.sleep(0.6)
    assert await memory.sweep() == cap
    assert await memory.client.dbsize() == 0
    assert await memory.stats() == type(stats)(0, 0, 0)


def every_method(memory: RedisMemory) -> dict[str, Callable[[], Awaitable[object]]]:
    k = key()
    return {
        "load": lambda: memory.load(k),
        "append_turn": lambda: memory.append_turn(k, *say(1), 1),
        "forget": lambda: memory.forget(k),
        "forget_user": lambda: memory.forget_user(k.user_id),
        "save_record": lambda: memory.save_record(k, record("r")),
        "find_record": lambda: memory.find_record(k, "r"),
        "acquire_lock": lambda: memory.acquire_lock(k, "o", 5),
        "renew_lock": lambda: memory.renew_lock(k, "o", 5),
        "release_lock": lambda: memory.release_lock(k, "o"),
        "sweep": memory.sweep,
        "stats": memory.stats,
    }


async def assert_unavailable_fast(memory: RedisMemory) -> None:
    for name, call in every_method(memory).items():
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await call()
        assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS, name
    started = time.monotonic()
    assert await memory.ping() is False
    assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS


async def test_redis_down_answers_fast_and_recovers_without_a_new_client(
    disposable_redis_server: RedisServer, connect: Callable[..., RedisMemory]
) -> None:
    server = disposable_redis_server
    memory = connect(server.url(), unique_prefix())
    k = key()
    await memory.append_turn(k, *say(1), 1)

    server.terminate()
    await assert_unavailable_fast(memory)

    server.start()  # same port, empty: nothing is persisted
    assert await memory.ping()
    assert (await memory.load(k)).state is None
    for method in every_method(memory).values():
        await method()
    await memory.append_turn(k, *say(2), 2)
    loaded = await memory.load(k)
    assert loaded.state is not None
    assert loaded.state.messages == say(2)


async def test_a_restart_between_requests_costs_no_request(
    disposable_redis_server: RedisServer, connect: Callable[..., RedisMemory]
) -> None:
    """Pooled connections die with the server; the next call reconnects instead of failing."""
    server = disposable_redis_server
    memory = connect(server.url(), unique_prefix())
    k = key()
    await asyncio.gather(*(memory.append_turn(key(), *say(1), 1) for _ in range(5)))  # several pooled
    server.terminate()
    server.start()
    await asyncio.gather(*(memory.append_turn(k, *say(n), n) for n in range(1, 6)))
    assert (await memory.stats()).conversations == 1


async def test_a_hung_redis_times_out_as_unavailable(
    disposable_redis_server: RedisServer, connect: Callable[..., RedisMemory]
) -> None:
    server = disposable_redis_server
    memory = connect(server.url(), unique_prefix())
    k = key()
    await memory.append_turn(k, *say(1), 1)
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await memory.load(k)
        assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    loaded = await memory.load(k)
    assert loaded.state is not None
    assert loaded.state.turns == 1
