"""The values conversation memory deals in: keys, windows, loss reasons and turn records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from spotter.llm.base import ChatMessage

__all__ = [
    "USER_ID_PATTERN",
    "ConversationKey",
    "ConversationState",
    "LoadResult",
    "LossReason",
    "MemoryStats",
    "TurnRecord",
]

#: A user id is namespaced by sign-in method (`credentials:42`, `github:1234`): one colon, no glob
#: characters, so keys of different providers never collide and prefix scans are safe.
USER_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._@+-]{1,128}$")


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """`user_id:conversation_id`: memory is always addressed by both, so one user can never
    reach another's conversation by knowing its id."""

    user_id: str
    conversation_id: UUID

    def __str__(self) -> str:
        return f"{self.user_id}:{self.conversation_id}"


class LossReason(StrEnum):
    """Why memory of a conversation is gone; the `checkpoint` event's `reason`."""

    EXPIRED = "memory_expired"
    EVICTED = "memory_evicted"
    LOST = "memory_lost"


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What memory holds for a live conversation: the message window and the committed-turn count."""

    messages: tuple[ChatMessage, ...]
    turns: int


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Either the conversation's state, or the tombstone left when it expired or was evicted."""

    state: ConversationState | None
    tombstone: LossReason | None = None


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """A completed turn sent with an Idempotency-Key, kept so a resend replays instead of rerunning.

    Stored compactly: the answer once plus the lengths of its deltas, from which the exact
    `response` events are rebuilt; `prelude` and `terminal` are the encoded events around them.
    """

    idempotency_key: str
    message_digest: str
    prelude: tuple[bytes, ...]
    answer: str
    delta_lengths: tuple[int, ...]
    terminal: bytes


@dataclass(frozen=True, slots=True)
class MemoryStats:
    """Counts for /metrics."""

    conversations: int
    tombstones: int
    turn_records: int
