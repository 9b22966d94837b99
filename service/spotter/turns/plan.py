"""What a turn starts from: the request as the domain sees it and the turn-counter rule."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from spotter.memory.model import ConversationKey, LoadResult, LossReason

__all__ = ["CHECKPOINT_MESSAGES", "TurnRequest", "TurnStart", "message_digest", "plan_turn"]

CHECKPOINT_MESSAGES = {
    LossReason.EXPIRED: "This conversation was idle for too long, so I no longer remember what we "
    "said before. If something from earlier matters, please mention it again.",
    LossReason.EVICTED: "I had to make room for other conversations, so I no longer remember what "
    "we said before. If something from earlier matters, please mention it again.",
    LossReason.LOST: "I lost the memory of this conversation (for example after a restart), so I "
    "no longer remember what we said before. If something from earlier matters, please mention "
    "it again.",
}


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One user turn, validated by the HTTP layer; `client_turn` is X-Conversation-Turn."""

    key: ConversationKey
    message: str
    client_turn: int | None
    idempotency_key: str | None
    last_event_id: int | None
    timezone: str

    @property
    def digest(self) -> str:
        return message_digest(self.message)


@dataclass(frozen=True, slots=True)
class TurnStart:
    """The outcome of the turn-counter rule: a checkpoint to send (or none) and the base count."""

    checkpoint: LossReason | None
    base_turns: int


def message_digest(message: str) -> str:
    """Identifies a message for Idempotency-Key reuse checks without keeping a second copy."""
    return hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()


def plan_turn(loaded: LoadResult, client_turn: int | None) -> TurnStart:
    """Apply the spec's turn-counter rule.

    With memory held, the count continues from the larger of the server's and the client's
    (a client behind the server missed an interrupted turn's `done`: not a loss). Without memory,
    a tombstone names the reason; otherwise a client that has seen turns means memory was lost,
    and the count continues from the client's number so it never loops on checkpoints.
    """
    seen = client_turn or 0
    if loaded.state is not None:
        return TurnStart(None, max(loaded.state.turns, seen))
    if loaded.tombstone is not None:
        return TurnStart(loaded.tombstone, seen)
    if seen > 0:
        return TurnStart(LossReason.LOST, seen)
    return TurnStart(None, 0)
