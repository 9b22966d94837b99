"""The knowledge bridge matches exercise names across spellings, preferring exact names, and
only points at records that work the exercise's muscles."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.knowledge_bridge import (
    BridgedExercise,
    KnowledgeBridge,
    TitleMatcher,
    title_terms,
)
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorRecord


def _doc(doc_id: str, title: str, *muscles: str) -> KnowledgeDocument:
    return KnowledgeDocument(doc_id, title, "exercise", title, {"muscles": list(muscles)})


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
        [BridgedExercise("Pull-up", 1.0), BridgedExercise("Romanian deadlift", 0.5)],
        TitleMatcher(CATALOGUE),
    )
    assert scores["pullups"] == 1.0
    assert scores["rdl"] == 0.5**4


def test_a_record_named_alike_that_works_other_muscles_is_not_the_exercise() -> None:
    # free-exercise-db's "Air Bike" is a bicycle crunch; the knowledge base's is the fan bike.
    catalogue = [
        _doc("crunch", "Air Bike", "abdominals"),
        _doc("bike", "Recumbent Bike", "quadriceps"),
        _doc("unknown", "Air Bike Sprint"),  # no muscles recorded: judged by its name alone
    ]
    fan_bike = BridgedExercise("Air bike", 1.0, frozenset({"quadriceps", "glutes"}))
    scores = KnowledgeBridge.catalogue_scores([fan_bike], TitleMatcher(catalogue))
    assert "crunch" not in scores
    assert scores["bike"] > 0 and scores["unknown"] > 0
    # An exercise whose muscles are not known is judged by its name alone too.
    unknown = KnowledgeBridge.catalogue_scores([BridgedExercise("Air bike", 1.0)], TitleMatcher(catalogue))
    assert unknown["crunch"] == 1.0


async def test_the_bridge_sorts_an_entrys_muscles_into_catalogue_groups(tmp_path: Path) -> None:
    entry = KnowledgeDocument(
        "ex-band-walk", "Lateral band walk", "exercise", "Step sideways against a band.",
        {"muscles": ["gluteus medius", "Tensor fasciae latae"]},
    )  # fmt: skip
    store = LocalVectorStore(tmp_path / "vectors")
    await store.upsert(KNOWLEDGE_NAMESPACE, [
        VectorRecord("ex-band-walk#0", np.ones(384, dtype=np.float32), {"doc_id": "ex-band-walk"})
    ])  # fmt: skip
    bridge = KnowledgeBridge(store, [entry])
    found = await bridge.exercises("band walk", np.ones(384, dtype=np.float32))
    assert found == [BridgedExercise("Lateral band walk", 1.0, frozenset({"glutes", "abductors"}))]
