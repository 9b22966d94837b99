"""The fitness vocabulary turns everyday phrases into catalogue words, and back into plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotter.retrieval.knowledge_base import KnowledgeFormatError
from spotter.retrieval.vocabulary import Vocabulary, default_vocabulary


def test_everyday_phrases_map_to_catalogue_terms() -> None:
    vocabulary = default_vocabulary()
    assert "hamstring" in vocabulary.expansion("curls for the back of my thighs")
    assert "dumbbell" in vocabulary.expansion("rows with hand weights")
    assert "calf" in vocabulary.expansion("something for my lower legs")
    assert "tricep" in vocabulary.expansion("pushing down for the back of the arms")
    assert vocabulary.expansion("what should I eat before a run?") == []


def test_the_expanded_question_keeps_the_question_and_adds_terms() -> None:
    vocabulary = Vocabulary({"muscles": [{"means": ["hamstrings"], "says": ["back of my thigh"]}]})
    assert vocabulary.expanded_question("stretch the back of the thighs") == (
        "stretch the back of the thighs (hamstring)"
    )
    assert vocabulary.expanded_question("stretch my calves") == "stretch my calves"
    # Whole phrases only: "back" alone is not the back of the thigh.
    assert vocabulary.expansion("my back hurts") == []


def test_catalogue_terms_have_plain_words() -> None:
    vocabulary = default_vocabulary()
    assert vocabulary.plain("hamstrings") == "back of the thighs"
    assert vocabulary.plain("body only") == "no equipment, body weight"
    assert vocabulary.plain("not a term") is None


def test_a_malformed_vocabulary_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(KnowledgeFormatError, match="vocabulary"):
        Vocabulary.from_file(path)


def test_terms_come_longest_phrase_first_and_shared_phrases_keep_every_meaning() -> None:
    vocabulary = Vocabulary({
        "equipment": [{"means": ["dumbbell"], "says": ["hand weights"]}],
        "muscles": [
            {"means": ["hamstrings"], "says": ["back of my thigh"]},
            {"means": ["glutes"], "says": ["back of my thigh", "bum"]},
        ],
    })
    # Matched wherever the phrases stand in the question; the longer phrase's terms come first.
    assert vocabulary.expansion("hand weights for my bum and the back of the thigh") == [
        "hamstring", "glute", "dumbbell",
    ]
    assert vocabulary.expanded_question("bum", ["glute"]) == "bum (glute)"
