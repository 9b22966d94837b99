"""The memory contract (backend.py), run against every backend: window, TTL, tombstones, cap,
forgetting, turn records and locks. Real time with short TTLs, so the same test drives Redis."""

from __future__ import annotations

import asyncio
import uuid

from spotter.llm.base import ChatMessage
from spotter.memory.model import ConversationKey, LossReason, TurnRecord

from .conftest import MemoryFactory


def key(user: str = "credentials:1") -> ConversationKey:
    return ConversationKey(user, uuid.uuid4())


def user(n: int) -> ChatMessage:
    return ChatMessage("user", f"question {n}")


def bot(n: int) -> ChatMessage:
    return ChatMessage("assistant", f"answer {n}")


def record(idempotency_key: str, answer: str = "hello world") -> TurnRecord:
    return TurnRecord(idempotency_key, "digest", (b"id: 1\n\n",), answer, (5, 6), b"id: 4\n\n")


async def test_unknown_conversation_has_no_state_and_no_tombstone(make_memory: MemoryFactory) -> None:
    loaded = await make_memory().load(key())
    assert loaded.state is None and loaded.tombstone is None


async def test_window_keeps_the_newest_messages_and_the_turn_count(make_memory: MemoryFactory) -> None:
    memory = make_memory(window=6)
    k = key()
    for n in range(1, 6):
        await memory.append_turn(k, user(n), bot(n), n)
    loaded = await memory.load(k)
    assert loaded.state is not None
    assert loaded.state.turns == 5
    assert loaded.state.messages == (user(3), bot(3), user(4), bot(4), user(5), bot(5))


async def test_window_of_two_keeps_one_exchange(make_memory: MemoryFactory) -> None:
    memory = make_memory(window=2)
    k = key()
    for n in range(1, 4):
        await memory.append_turn(k, user(n), bot(n), n)
    loaded = await memory.load(k)
    assert loaded.state is not None and loaded.state.messages == (user(3), bot(3))


async def test_ttl_slides_with_every_turn_then_expiry_leaves_a_tombstone(make_memory: MemoryFactory) -> None:
    memory = make_memory(ttl=0.6)
    k = key()
    await memory.append_turn(k, user(1), bot(1), 1)
    await asyncio.sleep(0.4)
    await memory.append_turn(k, user(2), bot(2), 2)
    await asyncio.sleep(0.4)  # 0.8 s after the first turn, 0.4 s after the last
    assert (await memory.load(k)).state is not None
    await asyncio.sleep(0.8)
    loaded = await memory.load(k)
    assert loaded.state is None and loaded.tombstone is LossReason.EXPIRED


async def test_a_new_turn_after_expiry_starts_a_fresh_window_and_clears_the_tombstone(
    make_memory: MemoryFactory,
) -> None:
    memory = make_memory(ttl=0.3)
    k = key()
    await memory.append_turn(k, user(1), bot(1), 1)
    await asyncio.sleep(0.5)
    await memory.append_turn(k, user(2), bot(2), 2)
    loaded = await memory.load(k)
    assert loaded.state is not None and loaded.state.messages == (user(2), bot(2))
    assert loaded.tombstone is None


async def test_the_cap_evicts_the_least_recently_used_with_a_tombstone(make_memory: MemoryFactory) -> None:
    memory = make_memory(cap=3)
    keys = [key() for _ in range(4)]
    for n, k in enumerate(keys):
        await memory.append_turn(k, user(n), bot(n), 1)
    await memory.append_turn(keys[0], user(9), bot(9), 2)  # keys[0] was oldest; it was evicted already
    loaded = [await memory.load(k) for k in keys]
    assert loaded[1].state is None and loaded[1].tombstone is LossReason.EVICTED
    assert loaded[0].state is not None and loaded[0].state.messages == (user(9), bot(9))
    assert (await memory.stats()).conversations == 3


async def test_tombstones_expire(make_memory: MemoryFactory) -> None:
    memory = make_memory(ttl=0.2, tombstone=0.3)
    k = key()
    await memory.append_turn(k, user(1), bot(1), 1)
    await asyncio.sleep(0.3)
    assert (await memory.load(k)).tombstone is LossReason.EXPIRED
    await asyncio.sleep(0.4)
    loaded = await memory.load(k)
    assert loaded.state is None and loaded.tombstone is None


async def test_sweep_purges_expired_conversations_and_keeps_tombstones(make_memory: MemoryFactory) -> None:
    memory = make_memory(ttl=0.2)
    for _ in range(5):
        await memory.append_turn(key(), user(1), bot(1), 1)
    live = key()
    await asyncio.sleep(0.3)
    await memory.append_turn(live, user(1), bot(1), 1)
    assert await memory.sweep() >= 5
    stats = await memory.stats()
    assert stats.conversations == 1 and stats.tombstones == 5


async def test_forget_leaves_nothing_behind(make_memory: MemoryFactory) -> None:
    memory = make_memory(ttl=0.2)
    k, expired = key(), key()
    await memory.append_turn(k, user(1), bot(1), 1)
    await memory.append_turn(expired, user(1), bot(1), 1)
    await memory.save_record(k, record("idem-1"))
    await asyncio.sleep(0.3)
    assert (await memory.load(expired)).tombstone is LossReason.EXPIRED
    await memory.append_turn(k, user(2), bot(2), 2)
    for conversation in (k, expired):
        await memory.forget(conversation)
        loaded = await memory.load(conversation)
        assert loaded.state is None and loaded.tombstone is None
    assert await memory.find_record(k, "idem-1") is None


async def test_forget_user_erases_only_that_user(make_memory: MemoryFactory) -> None:
    memory = make_memory()
    mine = [key("credentials:1") for _ in range(3)]
    theirs = key("credentials:10")  # same prefix digits: the key separator must stop a prefix match
    for k in (*mine, theirs):
        await memory.append_turn(k, user(1), bot(1), 1)
    assert await memory.forget_user("credentials:1") == 3
    assert [(await memory.load(k)).state for k in mine] == [None, None, None]
    assert (await memory.load(theirs)).state is not None


async def test_users_never_share_a_conversation_id(make_memory: MemoryFactory) -> None:
    memory = make_memory()
    conversation = uuid.uuid4()
    alice, bob = ConversationKey("credentials:1", conversation), ConversationKey("github:1", conversation)
    await memory.append_turn(alice, user(1), bot(1), 1)
    await memory.save_record(alice, record("shared-key"))
    assert (await memory.load(bob)).state is None
    assert await memory.find_record(bob, "shared-key") is None


async def test_records_keep_the_newest_two_per_conversation(make_memory: MemoryFactory) -> None:
    memory = make_memory()
    k = key()
    assert await memory.find_record(k, "a") is None
    await memory.append_turn(k, user(1), bot(1), 1)
    for name in ("a", "b", "c"):
        await memory.save_record(k, record(name, answer=f"answer {name}"))
    assert await memory.find_record(k, "a") is None
    found = await memory.find_record(k, "c")
    assert found is not None and found.answer == "answer c" and found.delta_lengths == (5, 6)
    assert (await memory.stats()).turn_records == 2


async def test_locks_belong_to_their_owner_and_expire(make_memory: MemoryFactory) -> None:
    memory = make_memory()
    k = key()
    assert await memory.acquire_lock(k, "owner-a", 0.3)
    assert not await memory.acquire_lock(k, "owner-b", 0.3)
    assert not await memory.renew_lock(k, "owner-b", 0.3)
    await memory.release_lock(k, "owner-b")  # not the owner: no effect
    assert not await memory.acquire_lock(k, "owner-b", 0.3)
    assert await memory.renew_lock(k, "owner-a", 0.3)
    await memory.release_lock(k, "owner-a")
    assert await memory.acquire_lock(k, "owner-b", 0.3)
    await asyncio.sleep(0.4)  # owner-b "crashed": its lock expires
    assert await memory.acquire_lock(k, "owner-c", 0.3)


async def test_ping(make_memory: MemoryFactory) -> None:
    assert await make_memory().ping()


async def test_a_retried_commit_of_the_same_turn_is_not_appended_twice(make_memory: MemoryFactory) -> None:
    memory = make_memory()
    k = key()
    await memory.append_turn(k, user(1), bot(1), 1)
    await memory.append_turn(k, user(1), bot(1), 1)
    loaded = await memory.load(k)
    assert loaded.state is not None
    assert loaded.state.messages == (user(1), bot(1))
