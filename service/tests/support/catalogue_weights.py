"""Fits the catalogue fusion weights from the evaluation questions (listwise learning-to-rank),
and scores a grid of them by hit@4 and MRR.

`SpotterRetriever` ranks an outside catalogue by similarity rescaled to 0..1, plus
`CATALOGUE_LEXICAL_WEIGHT` x the BM25 share, plus `BRIDGE_WEIGHT` x the knowledge bridge's
score. This finds the weights that make the expected records most likely: for every question,
each candidate record (the 64 dense, the 20 BM25 and the bridged ones) is described by those
three scores, read from the retriever itself (`SpotterRetriever.fusion_scores`), and a linear
score is fitted to maximise the softmax probability of the expected records over the
candidates (L2 0.01, 600 gradient steps). It prints the weights as the
retriever uses them (similarity = 1). With `--grid` it also ranks every question's candidates
under each pair of weights in a grid and prints hit@4 and MRR@10, overall and over the blind
sets: the likelihood the fit maximises is not hit@4, and once the catalogue's records carried
everyday descriptions the two parted (the fit said lexical 3.4, the grid's plateau 7-30).
docs/retrieval.md records the run the shipped weights came from; rerun it from `service/`
when the ranking's parts change:

    ../.venv/bin/python -m tests.support.catalogue_weights [--exclude blind4,blind5] [--grid]

It needs the cached indexes the tests build (`index_cache`; about two minutes when cold).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from spotter.retrieval.catalogue_search import ScopedKnowledgeStore
from spotter.retrieval.embedding import Embedder
from spotter.retrieval.free_exercise_db import ID_PREFIX, load_free_exercise_db
from spotter.retrieval.fusion import FusionScores
from spotter.retrieval.knowledge_base import load_knowledge
from spotter.retrieval.knowledge_bridge import KnowledgeBridge
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.retriever import SpotterRetriever
from spotter.retrieval.stores import local_vectors_dir
from tests.support.index_cache import FREE_EXERCISE_DB, cached_catalogue_index, cached_knowledge_index

__all__ = ["RankedCandidates", "fit_listwise", "main", "rank_quality"]

QUESTIONS = Path(__file__).resolve().parents[1] / "data/retrieval_eval/free_exercise_db_questions.yaml"


@dataclass(frozen=True, slots=True)
class RankedCandidates:
    """One question's candidate records: their (similarity, BM25, bridge) scores and which of
    them the question expects."""

    features: npt.NDArray[np.float64]  # shape (candidates, 3)
    relevant: npt.NDArray[np.bool_]


def fit_listwise(
    lists: Sequence[RankedCandidates], *, l2: float = 0.01, steps: int = 600, rate: float = 0.5
) -> npt.NDArray[np.float64]:
    """Weights maximising the mean log softmax probability of each list's relevant candidates
    (lists without one are skipped), by full-batch gradient descent."""
    usable = [c for c in lists if c.relevant.any()]
    weights = np.zeros(usable[0].features.shape[1])
    for _ in range(steps):
        gradient = np.zeros_like(weights)
        for candidates in usable:
            scores = candidates.features @ weights
            chance = np.exp(scores - scores.max())
            chance /= chance.sum()
            wanted = chance * candidates.relevant
            wanted /= wanted.sum()
            gradient += candidates.features.T @ (chance - wanted)
        weights -= rate * (gradient / len(usable) + l2 * weights)
    return weights


def rank_quality(
    lists: Sequence[RankedCandidates], weights: Sequence[float]
) -> tuple[float, float]:
    """hit@4 and MRR@10 of the lists ranked by `features @ weights` (a list without a relevant
    candidate counts as a miss)."""
    hits = reciprocal = 0.0
    for candidates in lists:
        order = np.argsort(-(candidates.features @ np.asarray(weights)), kind="stable")[:10]
        found = np.flatnonzero(candidates.relevant[order])
        if found.size:
            hits += float(found[0] < 4)
            reciprocal += 1.0 / (found[0] + 1)
    return hits / len(lists), reciprocal / len(lists)


def _candidates(scores: FusionScores, expected: frozenset[str]) -> RankedCandidates:
    ids = scores.ids()
    parts = (scores.similarity, scores.lexical, scores.bridge)
    features = np.array([[part.get(i, 0.0) for part in parts] for i in ids])
    return RankedCandidates(features, np.array([i in expected for i in ids]))


async def _lists(excluded: frozenset[str]) -> list[tuple[str, RankedCandidates]]:
    knowledge = load_knowledge()
    catalogue = load_free_exercise_db(FREE_EXERCISE_DB)
    ids = frozenset(doc.id for doc in catalogue)
    shared = LocalVectorStore(local_vectors_dir(cached_catalogue_index(cached_knowledge_index())))
    store = ScopedKnowledgeStore(shared, ids, inside=True)
    bridge = KnowledgeBridge(LocalVectorStore(local_vectors_dir(cached_knowledge_index())), knowledge)
    embedder = Embedder()
    retriever = SpotterRetriever(store, embedder, documents=catalogue, bridge=bridge)
    try:
        raw = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
        lists = []
        for item in raw:
            if item.get("set") in excluded:
                continue
            expected = frozenset(ID_PREFIX + e for e in item["expected"])
            scores = await retriever.fusion_scores(item["question"])
            lists.append((str(item.get("set", "")), _candidates(scores, expected)))
        return lists
    finally:
        embedder.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Print the fitted weights in the retriever's terms."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exclude", default="", help="question sets to leave out, e.g. blind4,blind5")
    parser.add_argument("--grid", action="store_true", help="also score a grid of weights")
    args = parser.parse_args(argv)
    excluded = frozenset(s for s in args.exclude.split(",") if s)
    labelled = asyncio.run(_lists(excluded))
    lists = [candidates for _, candidates in labelled]
    similarity, lexical, bridge = fit_listwise(lists)
    print(f"{len(lists)} questions; similarity : BM25 : bridge = {similarity / lexical:.2f} : 1 : "
          f"{bridge / lexical:.2f}; as the retriever weighs them (similarity 1.0): "
          f"CATALOGUE_LEXICAL_WEIGHT = {lexical / similarity:.2f}, "
          f"BRIDGE_WEIGHT = {bridge / similarity:.2f}")  # fmt: skip
    if args.grid:
        blind = [c for group, c in labelled if group.startswith("blind")]
        print("lexical  bridge  hit@4 (MRR) all   blind sets; BM25 alone first")
        for weights in [(0.0, 1.0, 0.0)] + [
            (1.0, lw, bw) for lw in (2.0, 3.4, 5.0, 7.0, 10.0, 15.0, 30.0) for bw in (0.0, 0.33, 0.66, 1.0)
        ]:
            every, seen_blind = rank_quality(lists, weights), rank_quality(blind, weights)
            print(f"{weights[1]:7.2f} {weights[2]:7.2f}  {every[0]:.3f} ({every[1]:.3f})  "
                  f"{seen_blind[0]:.3f} ({seen_blind[1]:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
