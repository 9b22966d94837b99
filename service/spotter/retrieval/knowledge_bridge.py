"""Uses the shipped knowledge base to find exercises in a large outside catalogue.

The knowledge base describes 150 exercises in the words people use, and hybrid search finds
the right one for about nine questions in ten. A catalogue such as free-exercise-db (873
terse records, many near-duplicates) is much harder to search directly. The bridge asks the
knowledge base first, then points at the catalogue records whose names match its best
exercises ("Pull-up" -> "Pullups", "Romanian deadlift" -> "Romanian Deadlift"), weighted by
how rare the shared name words are, and only at records that work one of the exercise's muscle
groups (`muscle_groups`: a name alone makes false friends). The retriever adds these scores to
its own ranking.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.lexical import LexicalIndex, terms
from spotter.retrieval.muscle_groups import MuscleGroups, default_muscle_groups, metadata_muscles
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorStore

__all__ = ["BridgedExercise", "KnowledgeBridge", "TitleMatcher", "title_terms"]

#: How many of the knowledge base's best exercises point into the catalogue.
BRIDGE_EXERCISES = 3
#: A lower-ranked exercise counts (its score / the best score) ** SHARPNESS: near-ties count
#: almost fully, clear runners-up hardly at all.
SHARPNESS = 4.0
#: The knowledge base's own hybrid weight (retriever.LEXICAL_WEIGHT; repeated to avoid a cycle).
_KNOWLEDGE_LEXICAL_WEIGHT = 0.25
_PASSAGES = 64
_LEXICAL_CANDIDATES = 20
_UP_COMPOUND = re.compile(r"(\w)[- ](ups?)\b")  # "pull-up", "push ups" -> "pullup", "pushups"


def title_terms(title: str) -> frozenset[str]:
    """The normalised words of an exercise name; "Pull-up" and "Pullups" share "pullup"."""
    return frozenset(terms(_UP_COMPOUND.sub(r"\1\2", title.lower())))


@dataclass(frozen=True, slots=True)
class BridgedExercise:
    """One of the knowledge base's best exercises for a question: its name, its weight in
    (0, 1] (the best is 1) and the catalogue muscle groups it works (empty: not known)."""

    title: str
    weight: float
    muscle_groups: frozenset[str] = frozenset()


class TitleMatcher:
    """Scores the names of `documents` against another name: IDF-weighted Dice overlap of their
    words, 1.0 for the same words, lower as either name has words the other lacks. Also keeps
    each document's `muscles`, to tell same-named exercises apart (`works_any`)."""

    def __init__(self, documents: Iterable[KnowledgeDocument]) -> None:
        documents = list(documents)
        self._titles = {doc.id: title_terms(doc.title) for doc in documents}
        self._muscles = {doc.id: metadata_muscles(doc.metadata) for doc in documents}
        self._by_term: dict[str, list[str]] = {}
        for doc_id, words in self._titles.items():
            for word in words:
                self._by_term.setdefault(word, []).append(doc_id)
        frequency = Counter(word for words in self._titles.values() for word in words)
        n = len(self._titles)
        self._idf = {w: math.log((n + 1) / (f + 0.5)) for w, f in frequency.items()}
        self._unknown_idf = math.log((n + 1) / 0.5)

    def matches(self, title: str) -> dict[str, float]:
        """Every document sharing a name word with `title`, with its overlap in (0, 1]."""
        wanted = title_terms(title)
        found = {doc_id for word in wanted for doc_id in self._by_term.get(word, ())}
        weight_wanted = sum(self._weight(w) for w in wanted)
        result: dict[str, float] = {}
        for doc_id in found:
            words = self._titles[doc_id]
            shared = sum(self._weight(w) for w in wanted & words)
            result[doc_id] = 2 * shared / (weight_wanted + sum(self._weight(w) for w in words))
        return result

    def works_any(self, doc_id: str, groups: frozenset[str]) -> bool:
        """Whether the document works one of `groups`; True when either side is not known."""
        muscles = self._muscles.get(doc_id, frozenset())
        return not muscles or not groups or bool(muscles & groups)

    def _weight(self, word: str) -> float:
        return self._idf.get(word, self._unknown_idf)


class KnowledgeBridge:
    """Ranks the knowledge base's exercises for a question (dense + BM25, as the retriever does)
    and turns the best few into catalogue scores through a `TitleMatcher`.

    `store` holds the knowledge base's vectors in the knowledge namespace (the shipped index).
    """

    def __init__(
        self,
        store: VectorStore,
        knowledge: Sequence[KnowledgeDocument],
        muscle_groups: MuscleGroups | None = None,
    ) -> None:
        self._store = store
        groups = muscle_groups if muscle_groups is not None else default_muscle_groups()
        self._exercises = {
            doc.id: (doc.title, groups.of(metadata_muscles(doc.metadata)))
            for doc in knowledge
            if doc.kind == "exercise"
        }
        self._lexical = LexicalIndex.from_documents(knowledge)

    async def exercises(
        self, question: str, vector: npt.NDArray[np.float32], expansion: Sequence[str] = ()
    ) -> list[BridgedExercise]:
        """The best exercises, best first."""
        matches = await self._store.query(KNOWLEDGE_NAMESPACE, vector, _PASSAGES)
        fused: dict[str, float] = {}
        for match in matches:  # best first: the first passage of an entry is its best
            doc_id = match.metadata.get("doc_id")
            if isinstance(doc_id, str) and doc_id not in fused:
                fused[doc_id] = match.score
        lexical = self._lexical.search(question, _LEXICAL_CANDIDATES, expansion)
        if lexical:
            best = lexical[0][1]
            for doc_id, score in lexical:
                share = _KNOWLEDGE_LEXICAL_WEIGHT * score / best
                fused[doc_id] = fused.get(doc_id, 0.0) + share
        ranked = sorted(
            ((i, s) for i, s in fused.items() if i in self._exercises), key=lambda p: (-p[1], p[0])
        )[:BRIDGE_EXERCISES]
        if not ranked or ranked[0][1] <= 0:
            return []
        top = ranked[0][1]
        found = []
        for doc_id, score in ranked:
            title, groups = self._exercises[doc_id]
            found.append(BridgedExercise(title, max(score, 0.0) / top, groups))
        return found

    @staticmethod
    def catalogue_scores(
        exercises: Sequence[BridgedExercise], matcher: TitleMatcher
    ) -> Mapping[str, float]:
        """Each catalogue record's best (exercise weight ** SHARPNESS x name overlap), over the
        exercises whose muscle groups it works."""
        scores: dict[str, float] = {}
        for exercise in exercises:
            factor = exercise.weight**SHARPNESS
            for doc_id, overlap in matcher.matches(exercise.title).items():
                if matcher.works_any(doc_id, exercise.muscle_groups):
                    scores[doc_id] = max(scores.get(doc_id, 0.0), factor * overlap)
        return scores
