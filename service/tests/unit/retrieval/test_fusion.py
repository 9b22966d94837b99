"""FusionScores: the parts the hybrid ranking weighs, as the retriever and the weight fit read them."""

from __future__ import annotations

import pytest

from spotter.retrieval.fusion import FusionScores


def test_bm25_is_shared_out_by_the_best_score_and_similarity_kept_raw() -> None:
    scores = FusionScores.of({"a": 0.6, "b": 0.5}, [("b", 8.0), ("c", 2.0)], {}, rescale=False)
    assert scores.similarity == {"a": 0.6, "b": 0.5}
    assert scores.lexical == {"b": 1.0, "c": 0.25}


def test_a_catalogue_rescales_similarity_to_zero_one_and_ties_count_fully() -> None:
    spread = FusionScores.of({"a": 0.50, "b": 0.45, "c": 0.40}, [], {}, rescale=True)
    assert spread.similarity == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})
    tied = FusionScores.of({"a": 0.5, "b": 0.5}, [], {}, rescale=True)
    assert tied.similarity == {"a": 1.0, "b": 1.0}


def test_every_candidate_is_listed_once_dense_first_and_missing_parts_score_zero() -> None:
    scores = FusionScores.of(
        {"a": 0.5, "b": 0.4}, [("c", 4.0), ("a", 2.0)], {"d": 0.9, "b": 0.5}, rescale=False
    )
    assert scores.ids() == ["a", "b", "c", "d"]
    fused = scores.fused(lexical_weight=2.0, bridge_weight=1.0)
    assert fused == pytest.approx({"a": 0.5 + 2.0 * 0.5, "b": 0.4 + 0.5, "c": 2.0, "d": 0.9})


def test_no_candidates_give_empty_parts() -> None:
    scores = FusionScores.of({}, [], {}, rescale=True)
    assert scores.ids() == [] and scores.fused(2.0, 1.2) == {}
