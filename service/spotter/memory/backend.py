"""The interface every conversation-memory backend implements (in-process, Redis)."""

from __future__ import annotations

from typing import Protocol

from spotter.llm.base import ChatMessage
from spotter.memory.model import ConversationKey, LoadResult, MemoryStats, TurnRecord

__all__ = ["ConversationMemory"]


class ConversationMemory(Protocol):
    """Windowed, expiring conversation memory with tombstones, turn records and turn locks.

    Contract (tested against every backend by one suite):
    - `append_turn` stores the user message and the answer as one step, keeps the newest
      `window` messages, sets the committed-turn count, restarts the sliding TTL and clears any
      tombstone. It is idempotent per turn count: a retried commit of the same turn is not appended twice.
    - A conversation idle for the TTL is gone and leaves a `memory_expired` tombstone; one pushed
      out by the capacity bound leaves `memory_evicted`. Tombstones expire on their own.
    - `forget` erases the conversation, its tombstone and its turn records, leaving nothing.
    - Locks are owned by a token: only the owner renews or releases; an unrenewed lock expires.
    Unreachable storage raises `spotter.errors.BackendUnavailable`.
    """

    async def load(self, key: ConversationKey) -> LoadResult:
        """The window and turn count, or the tombstone reason, or neither."""
        ...

    async def append_turn(
        self, key: ConversationKey, user: ChatMessage, assistant: ChatMessage, turns: int
    ) -> None:
        """Commit one whole turn; `turns` is the conversation's committed-turn count after it."""
        ...

    async def forget(self, key: ConversationKey) -> None:
        """Erase everything held for the conversation."""
        ...

    async def forget_user(self, user_id: str) -> int:
        """Erase every conversation of a user; returns how many were held."""
        ...

    async def save_record(self, key: ConversationKey, record: TurnRecord) -> None:
        """Keep a completed turn for idempotent replay (the newest few per conversation)."""
        ...

    async def find_record(self, key: ConversationKey, idempotency_key: str) -> TurnRecord | None:
        """The record of a completed turn sent with this key, if still held."""
        ...

    async def acquire_lock(self, key: ConversationKey, owner: str, ttl_seconds: float) -> bool:
        """Take the conversation's turn lock for `owner`; False when someone else holds it."""
        ...

    async def renew_lock(self, key: ConversationKey, owner: str, ttl_seconds: float) -> bool:
        """Extend the lock if `owner` still holds it."""
        ...

    async def release_lock(self, key: ConversationKey, owner: str) -> None:
        """Release the lock if `owner` holds it."""
        ...

    async def sweep(self) -> int:
        """Purge expired conversations (leaving tombstones) and expired tombstones; returns purged."""
        ...

    async def stats(self) -> MemoryStats:
        """Counts for /metrics."""
        ...

    async def ping(self) -> bool:
        """Whether the backend is reachable (for /readyz)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
