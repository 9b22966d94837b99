"""The soak's ledger catches a lost and a duplicated turn, and resolves a left turn either way.

These run in `make test` (no service): they show the soak's check can fail before it is trusted
to pass.
"""

from __future__ import annotations

from tests.reliability.soak_ledger import Ledger, Verdict
from tests.reliability.soak_llm import seen_ids


def _ledger(*committed: str) -> Ledger:
    return Ledger(committed=list(committed))


def test_a_turn_that_sees_exactly_the_committed_window_passes() -> None:
    ledger = _ledger("a", "b", "c", "d")
    assert ledger.completed("e", 5, ["b", "c", "d", "e"]) is None
    assert ledger.committed == ["a", "b", "c", "d", "e"]


def test_a_committed_message_missing_from_memory_is_a_lost_turn() -> None:
    verdict = _ledger("a", "b").completed("c", 3, ["a", "c"])
    assert verdict is not None and verdict.kind == "lost"


def test_a_message_held_twice_or_counted_twice_is_a_duplicate() -> None:
    assert _ledger("a", "b").completed("c", 3, ["a", "b", "b", "c"]) == Verdict(
        "duplicate", "c: turn 3 after 2 committed, history ['a', 'b', 'b', 'c']")
    verdict = _ledger("a").completed("b", 3, ["a", "b"])
    assert verdict is not None and verdict.kind == "duplicate"


def test_a_left_turn_is_resolved_by_the_next_turns_count_and_history() -> None:
    counted = _ledger("a")
    counted.left("b")
    assert counted.completed("c", 3, ["a", "b", "c"]) is None
    assert counted.committed == ["a", "b", "c"]

    dropped = _ledger("a")
    dropped.left("b")
    assert dropped.completed("c", 2, ["a", "c"]) is None

    counted_but_forgotten = _ledger("a")
    counted_but_forgotten.left("b")
    verdict = counted_but_forgotten.completed("c", 3, ["a", "c"])
    assert verdict is not None and verdict.kind == "lost"


def test_a_failed_turn_is_committed_only_if_it_had_sent_text() -> None:
    ledger = _ledger("a")
    ledger.failed("b", text_seen=False)
    ledger.failed("c", text_seen=True)
    assert ledger.completed("d", 3, ["a", "c", "d"]) is None


def test_a_replay_that_counts_a_new_turn_is_a_duplicate() -> None:
    assert _ledger().replayed("a", 4, 4) is None
    verdict = _ledger().replayed("a", 5, 4)
    assert verdict is not None and verdict.kind == "duplicate"


def test_the_ids_an_answer_names_are_read_back() -> None:
    assert seen_ids("seen S1C0M4 S1C0M9 . rep0 rep1") == ["S1C0M4", "S1C0M9"]
    assert seen_ids("seen . rep0") == []
    assert seen_ids("Squat three sets") is None
