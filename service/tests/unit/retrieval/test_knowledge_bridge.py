"""The knowledge bridge matches exercise names across spellings, preferring exact names."""

from __future__ import annotations

from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.knowledge_bridge import KnowledgeBridge, TitleMatcher, title_terms


def _doc(doc_id: str, title: str) -> KnowledgeDocument:
    return KnowledgeDocument(doc_id, title, "exercise", title)


CATALOGUE = [
    _doc("pullups", "Pullups"),
    _doc("rdl", "Romanian Deadlift"),
    _doc("rdl-deficit", "Romanian Deadlift from Deficit"),
    _doc("deadlift", "Barbell Deadlift"),
    _doc("bug", "Dead Bug"),
]


def test_up_compounds_are_one_word() -> None:
    assert title_terms("Pull-up") == title_terms("Pullups") == frozenset({"pullup"})
    assert title_terms("Push ups") == frozenset({"pushup"})


def test_exact_names_outscore_longer_and_partial_ones() -> None:
    matches = TitleMatcher(CATALOGUE).matches("Romanian deadlift")
    assert matches["rdl"] == 1.0
    assert 0 < matches["deadlift"] < matches["rdl-deficit"] < matches["rdl"]
    assert "bug" not in matches
    assert TitleMatcher(CATALOGUE).matches("Pull-up") == {"pullups": 1.0}


def test_catalogue_scores_weigh_runners_up_down() -> None:
    scores = KnowledgeBridge.catalogue_scores(
        [("Pull-up", 1.0), ("Romanian deadlift", 0.5)], TitleMatcher(CATALOGUE)
    )
    assert scores["pullups"] == 1.0
    assert scores["rdl"] == 0.5**4
