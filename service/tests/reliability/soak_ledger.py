"""What a soak client knows its conversation committed, and the check of every completed turn.

A turn the client saw end with `done` is committed; one that ended with `error` is committed if
and only if some text came first (the contract `test_llm_faults.py` checks); one the client left
is uncertain until the next completed turn: its `done.turn` says whether the left turn counted.
Every completed turn's answer names the user messages the LLM was sent (`soak_llm.SoakLLM`), so
each one checks that memory holds exactly the committed messages, in order, each once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["WINDOW_EXCHANGES", "Ledger", "Verdict"]

#: Exchanges of history the service sends with a turn (SPOTTER_MEMORY_WINDOW=6 messages).
WINDOW_EXCHANGES = 3


@dataclass(frozen=True, slots=True)
class Verdict:
    """What was wrong with a completed turn: `kind` is "lost" or "duplicate", `detail` the evidence."""

    kind: str
    detail: str


@dataclass(slots=True)
class Ledger:
    """Committed message ids of one conversation, oldest first, and at most one uncertain one."""

    committed: list[str] = field(default_factory=list)
    uncertain: tuple[int, str] | None = None  # (position in `committed`, id) of a turn the client left

    def left(self, message_id: str) -> None:
        """The client left a turn before seeing how it ended."""
        assert self.uncertain is None, "resolve the last left turn first"
        self.uncertain = (len(self.committed), message_id)

    def failed(self, message_id: str, *, text_seen: bool) -> None:
        """A turn ended with `error`: committed (partially) if it had sent text."""
        if text_seen:
            self.committed.append(message_id)

    def completed(self, message_id: str, turn: int, history: list[str] | None) -> Verdict | None:
        """A turn ended with `done` (`turn`) after the LLM was sent `history`; None when all is right."""
        base = list(self.committed)
        if self.uncertain is not None:
            position, maybe = self.uncertain
            if turn == len(base) + 2:  # the left turn was counted
                base.insert(position, maybe)
        expected = [*base[-WINDOW_EXCHANGES:], message_id]
        self.committed, self.uncertain = [*base, message_id], None
        if history is None:
            return Verdict("lost", f"{message_id}: the answer does not say what history it was sent")
        if turn > len(base) + 1 or len(set(history)) < len(history):
            return Verdict("duplicate", f"{message_id}: turn {turn} after {len(base)} committed, history {history}")
        if turn != len(base) + 1 or history != expected:
            return Verdict("lost", f"{message_id}: turn {turn}, history {history}, expected {expected}")
        return None

    def replayed(self, message_id: str, turn: int, original_turn: int) -> Verdict | None:
        """A resend of an Idempotency-Key that had completed: the same turn, never a new one."""
        if turn != original_turn:
            return Verdict("duplicate", f"{message_id}: replay says turn {turn}, the original {original_turn}")
        return None
