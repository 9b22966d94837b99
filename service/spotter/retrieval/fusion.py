"""The parts a hybrid ranking adds up, kept apart so they can be weighed, and fitted, in one place.

`SpotterRetriever` scores each knowledge candidate as similarity + lexical weight x BM25 share
+ bridge weight x bridge score. `FusionScores` holds those three parts per candidate before
weighting: the retriever ranks by `FusionScores.fused`, and the catalogue weight fit
(`tests/support/catalogue_weights.py`) reads the very same parts through
`SpotterRetriever.fusion_scores` instead of recomputing them (a copy of this arithmetic once
drifted from the retriever's and fitted the wrong thing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["FusionScores"]


@dataclass(frozen=True, slots=True)
class FusionScores:
    """Per candidate id: `similarity` (cosine, or rescaled to 0..1 over the dense candidates
    for a catalogue), `lexical` (BM25 divided by the query's best BM25 score) and `bridge`
    (the knowledge bridge's score). A candidate missing from a part scores 0 there."""

    similarity: Mapping[str, float]
    lexical: Mapping[str, float]
    bridge: Mapping[str, float]

    @classmethod
    def of(
        cls,
        similarity: Mapping[str, float],
        lexical: Sequence[tuple[str, float]],
        bridge: Mapping[str, float],
        *,
        rescale: bool,
    ) -> FusionScores:
        """The parts from raw similarities, BM25 results (best first) and bridge scores.

        `rescale` maps similarity min-max to 0..1 over the candidates (all 1.0 when they tie).
        """
        if rescale and similarity:
            low, high = min(similarity.values()), max(similarity.values())
            similarity = {
                i: (v - low) / (high - low) if high > low else 1.0 for i, v in similarity.items()
            }
        best = lexical[0][1] if lexical else 1.0
        return cls(dict(similarity), {i: score / best for i, score in lexical}, dict(bridge))

    def ids(self) -> list[str]:
        """Every candidate once: the dense ones, then BM25's, then the bridge's, each in order."""
        return list(dict.fromkeys([*self.similarity, *self.lexical, *self.bridge]))

    def fused(self, lexical_weight: float, bridge_weight: float) -> dict[str, float]:
        """similarity + lexical_weight x lexical + bridge_weight x bridge, per candidate."""
        return {
            i: self.similarity.get(i, 0.0)
            + lexical_weight * self.lexical.get(i, 0.0)
            + bridge_weight * self.bridge.get(i, 0.0)
            for i in self.ids()
        }
