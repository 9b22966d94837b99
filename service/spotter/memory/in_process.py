"""Conversation memory in this process: an LRU of windows with sliding TTL, tombstones and a cap.

Every structure is bounded by `max_conversations`, so RSS stays flat whatever the traffic.
Because the TTL is the same for every conversation and a conversation moves to the back of the
LRU only when its TTL restarts, LRU order is also expiry order: the sweeper pops from the front
and touches only what is expired.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from spotter.llm.base import ChatMessage
from spotter.memory.model import (
    ConversationKey,
    ConversationState,
    LoadResult,
    LossReason,
    MemoryStats,
    TurnRecord,
)

__all__ = ["InProcessMemory"]

Clock = Callable[[], float]


@dataclass(slots=True)
class _Conversation:
    messages: tuple[ChatMessage, ...]
    turns: int
    expires_at: float
    records: tuple[TurnRecord, ...] = ()


@dataclass(slots=True)
class _Tombstone:
    reason: LossReason
    expires_at: float


@dataclass(slots=True)
class _Lock:
    owner: str
    expires_at: float


@dataclass(slots=True)
class InProcessMemory:
    """The default backend; correct for one worker (several workers need the Redis backend)."""

    window: int
    ttl_seconds: float
    max_conversations: int
    tombstone_seconds: float
    records_per_conversation: int = 2
    clock: Clock = time.monotonic
    _conversations: OrderedDict[str, _Conversation] = field(default_factory=OrderedDict)
    _tombstones: OrderedDict[str, _Tombstone] = field(default_factory=OrderedDict)
    _locks: dict[str, _Lock] = field(default_factory=dict)

    async def load(self, key: ConversationKey) -> LoadResult:
        name = str(key)
        now = self.clock()
        conversation = self._conversations.get(name)
        if conversation is not None and conversation.expires_at <= now:
            self._expire(name, now)
            conversation = None
        if conversation is not None:
            return LoadResult(ConversationState(conversation.messages, conversation.turns))
        tombstone = self._tombstones.get(name)
        if tombstone is not None and tombstone.expires_at <= now:
            del self._tombstones[name]
            tombstone = None
        return LoadResult(None, tombstone.reason if tombstone else None)

    async def append_turn(
        self, key: ConversationKey, user: ChatMessage, assistant: ChatMessage, turns: int
    ) -> None:
        name = str(key)
        now = self.clock()
        held = self._conversations.get(name)
        if held is not None and held.expires_at > now and held.turns == turns:
            # every commit raises the count: the same count again is a retried commit, not a new
            # turn, and it must not count as activity either (LRU position and TTL stay)
            return
        conversation = self._conversations.pop(name, None)
        if conversation is not None and conversation.expires_at <= now:
            self._bury(name, LossReason.EXPIRED, now)
            conversation = None
        previous = conversation.messages if conversation else ()
        records = conversation.records if conversation else ()
        messages = (*previous, user, assistant)[-self.window :]
        self._tombstones.pop(name, None)
        self._conversations[name] = _Conversation(messages, turns, now + self.ttl_seconds, records)
        while len(self._conversations) > self.max_conversations:
            evicted_name, evicted = self._conversations.popitem(last=False)
            # one the sweeper has not reached yet had already expired: say so, not "evicted"
            reason = LossReason.EXPIRED if evicted.expires_at <= now else LossReason.EVICTED
            self._bury(evicted_name, reason, now)

    async def forget(self, key: ConversationKey) -> None:
        name = str(key)
        self._conversations.pop(name, None)
        self._tombstones.pop(name, None)

    async def forget_user(self, user_id: str) -> int:
        prefix = f"{user_id}:"
        names = [name for name in self._conversations if name.startswith(prefix)]
        for name in names:
            del self._conversations[name]
        for name in [name for name in self._tombstones if name.startswith(prefix)]:
            del self._tombstones[name]
        return len(names)

    async def save_record(self, key: ConversationKey, record: TurnRecord) -> None:
        conversation = self._conversations.get(str(key))
        if conversation is None:
            return  # records live inside the conversation's budget; nothing held, nothing to replay
        kept = tuple(r for r in conversation.records if r.idempotency_key != record.idempotency_key)
        conversation.records = (*kept, record)[-self.records_per_conversation :]

    async def find_record(self, key: ConversationKey, idempotency_key: str) -> TurnRecord | None:
        conversation = self._conversations.get(str(key))
        if conversation is None or conversation.expires_at <= self.clock():
            return None
        for record in conversation.records:
            if record.idempotency_key == idempotency_key:
                return record
        return None

    async def acquire_lock(self, key: ConversationKey, owner: str, ttl_seconds: float) -> bool:
        name = str(key)
        now = self.clock()
        lock = self._locks.get(name)
        if lock is not None and lock.expires_at > now and lock.owner != owner:
            return False
        self._locks[name] = _Lock(owner, now + ttl_seconds)
        return True

    async def renew_lock(self, key: ConversationKey, owner: str, ttl_seconds: float) -> bool:
        lock = self._locks.get(str(key))
        if lock is None or lock.owner != owner:
            return False
        lock.expires_at = self.clock() + ttl_seconds
        return True

    async def release_lock(self, key: ConversationKey, owner: str) -> None:
        name = str(key)
        lock = self._locks.get(name)
        if lock is not None and lock.owner == owner:
            del self._locks[name]

    async def sweep(self) -> int:
        now = self.clock()
        purged = 0
        while self._conversations:
            name, conversation = next(iter(self._conversations.items()))
            if conversation.expires_at > now:
                break
            self._expire(name, now)
            purged += 1
        while self._tombstones:
            name, tombstone = next(iter(self._tombstones.items()))
            if tombstone.expires_at > now:
                break
            del self._tombstones[name]
            purged += 1
        for name in [name for name, lock in self._locks.items() if lock.expires_at <= now]:
            del self._locks[name]
        return purged

    async def stats(self) -> MemoryStats:
        records = sum(len(c.records) for c in self._conversations.values())
        return MemoryStats(len(self._conversations), len(self._tombstones), records)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None

    def _expire(self, name: str, now: float) -> None:
        self._conversations.pop(name, None)
        self._bury(name, LossReason.EXPIRED, now)

    def _bury(self, name: str, reason: LossReason, now: float) -> None:
        # Tombstones are stamped with the time they are made, so their order is expiry order too.
        self._tombstones.pop(name, None)
        self._tombstones[name] = _Tombstone(reason, now + self.tombstone_seconds)
        while len(self._tombstones) > self.max_conversations:
            self._tombstones.popitem(last=False)
