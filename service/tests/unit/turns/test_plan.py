"""The turn-counter rule, case by case."""

from __future__ import annotations

import pytest

from spotter.llm.base import ChatMessage
from spotter.memory.model import ConversationState, LoadResult, LossReason
from spotter.turns.plan import TurnStart, message_digest, plan_turn

HELD = LoadResult(ConversationState((ChatMessage("user", "hi"), ChatMessage("assistant", "hello")), 4))


@pytest.mark.parametrize(
    ("loaded", "client_turn", "expected"),
    [
        (LoadResult(None), None, TurnStart(None, 0)),  # a new conversation: no checkpoint
        (LoadResult(None), 0, TurnStart(None, 0)),
        (LoadResult(None), 2, TurnStart(LossReason.LOST, 2)),  # restart: continue from the client
        (LoadResult(None, LossReason.EXPIRED), 3, TurnStart(LossReason.EXPIRED, 3)),
        (LoadResult(None, LossReason.EVICTED), None, TurnStart(LossReason.EVICTED, 0)),  # no header, tombstone
        (HELD, 4, TurnStart(None, 4)),  # in step
        (HELD, 3, TurnStart(None, 4)),  # the client missed an interrupted turn's done: no loss
        (HELD, None, TurnStart(None, 4)),
        (HELD, 9, TurnStart(None, 9)),  # never count backwards from what the client saw
    ],
)
def test_plan_turn(loaded: LoadResult, client_turn: int | None, expected: TurnStart) -> None:
    assert plan_turn(loaded, client_turn) == expected


def test_message_digest_handles_lone_surrogates() -> None:
    assert message_digest("a\ud800") != message_digest("a")
