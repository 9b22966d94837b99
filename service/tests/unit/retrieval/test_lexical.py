"""BM25 ranks by rare shared words, and word normalisation folds inflections together."""

from __future__ import annotations

import pytest

from spotter.retrieval.lexical import LexicalIndex, stem, terms


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("squats", "squat"), ("squatted", "squat"), ("squatting", "squat"), ("benched", "bench"),
        ("presses", "press"), ("press", "press"), ("deadlifted", "deadlift"), ("ran", "run"),
        ("running", "run"), ("pulling", "pull"), ("calves", "calf"), ("biceps", "bicep"),
        ("abs", "abs"),
    ],
)  # fmt: skip
def test_stem_folds_inflections(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_terms_drop_stop_words_and_punctuation() -> None:
    assert terms("What did I squat, and how heavy was it?") == ["squat", "heavy"]
    assert terms("I\u2019ve been benching") == ["bench"]


def test_bm25_prefers_rare_words_and_shorter_documents() -> None:
    index = LexicalIndex(
        [
            ("a", "barbell back squat for the legs"),
            ("b", "legs legs legs and more legs with a long text about many other things too"),
            ("c", "zottman curl for the forearms"),
            ("d", "bench press for the chest"),
        ]
    )
    assert len(index) == 4
    assert [doc for doc, _ in index.search("zottman curls", 4)] == ["c"]
    ranked = index.search("squat legs", 4)
    assert ranked[0][0] == "a"
    assert {doc for doc, _ in ranked} == {"a", "b"}
    assert ranked[0][1] > ranked[1][1] > 0
    assert index.search("nothing matches this", 4) == []
    assert len(index.search("for", 2)) <= 2


def test_an_empty_index_finds_nothing() -> None:
    assert LexicalIndex([]).search("squat", 3) == []
