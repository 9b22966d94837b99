"""The listwise fit behind the catalogue weights recovers the weights that produced a ranking."""

from __future__ import annotations

import numpy as np

from tests.support.catalogue_weights import RankedCandidates, fit_listwise


def lists_ranked_by(weights: np.ndarray, count: int, seed: int) -> list[RankedCandidates]:
    """Questions whose expected record is drawn with softmax(features @ weights) over 30
    candidates: the model the fit assumes, so its estimate should land near `weights`."""
    rng = np.random.default_rng(seed)
    lists = []
    for _ in range(count):
        features = rng.random((30, 3))
        chance = np.exp(features @ weights)
        chosen = rng.choice(30, p=chance / chance.sum())
        lists.append(RankedCandidates(features, np.arange(30) == chosen))
    return lists


def test_the_fit_recovers_the_weights_that_ranked_the_lists() -> None:
    truth = np.array([4.0, 8.0, 2.0])  # similarity : BM25 : bridge = 0.5 : 1 : 0.25
    fitted = fit_listwise(lists_ranked_by(truth, 600, seed=7), l2=0.0, steps=400, rate=5.0)
    assert np.allclose(fitted / fitted[1], truth / truth[1], atol=0.12), fitted


def test_lists_without_an_expected_candidate_are_left_out() -> None:
    lists = lists_ranked_by(np.array([1.0, 2.0, 0.5]), 100, seed=3)
    empty = RankedCandidates(np.ones((5, 3)), np.zeros(5, dtype=bool))
    assert np.allclose(fit_listwise([*lists, empty]), fit_listwise(lists))
