"""Spotter's retriever: the knowledge base plus the asking user's own workouts, nobody else's.

Three sources feed one ranked list:
1. Date-bounded history questions ("what did I squat last week?") are answered from the workout
   repository by date and ranked first; "my last leg day" takes the newest matching workout
   (`dated_workouts`).
2. The knowledge namespace, ranked by dense similarity, or (hybrid mode, the default) by
   similarity plus a weighted, per-query normalised BM25 score; see docs/retrieval.md for why
   this beat reciprocal-rank fusion.
3. The user's workout namespace (`workout_namespace(user_id)`, no other), by similarity, with
   slots reserved when the question is about the user's own training (`hit_merge`).
A failing store, database or model marks the result `degraded`; `retrieve` never raises.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from spotter.retrieval.base import RetrievalHit, RetrievalQuery, RetrievalResult
from spotter.retrieval.dated_workouts import dated_workouts
from spotter.retrieval.fusion import FusionScores
from spotter.retrieval.hit_merge import (
    Candidate,
    merge_hits,
    metadata_text,
    similar_workouts,
    within,
    workout_hit_id,
    workout_hit_title,
)
from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.knowledge_bridge import KnowledgeBridge, TitleMatcher
from spotter.retrieval.lexical import LexicalIndex, terms
from spotter.retrieval.passages import Passage, passages
from spotter.retrieval.timeframe import Latest, TimeFrame, resolve_timeframe
from spotter.retrieval.vector_store import (
    KNOWLEDGE_NAMESPACE,
    VectorMatch,
    VectorStore,
    workout_namespace,
)
from spotter.retrieval.vocabulary import Vocabulary, default_vocabulary
from spotter.workouts.repository import WorkoutRepository

__all__ = ["Mode", "QueryEmbedder", "SpotterRetriever", "workout_hit_id", "workout_hit_title"]

logger = logging.getLogger(__name__)

Mode = Literal["dense", "hybrid"]

#: Hybrid score = cosine + LEXICAL_WEIGHT * bm25 / best bm25 of the query (tuned on the
#: evaluation sets: 0.2-0.3 is a plateau; see docs/retrieval.md).
LEXICAL_WEIGHT = 0.25
#: ...and for an outside catalogue searched through a knowledge bridge, beside similarity
#: rescaled to 0..1: lexical 10, bridge 0.66. Since records carry the project's everyday
#: descriptions (catalogue_descriptions.py), BM25 is the strongest part and similarity mostly
#: breaks its ties; chosen from the middle of the plateau of a grid on the 501 evaluation
#: questions and judged by a blind set written after it (docs/retrieval.md).
CATALOGUE_LEXICAL_WEIGHT = 10.0
BRIDGE_WEIGHT = 0.66
_PASSAGES_PER_QUERY = 64
_LEXICAL_CANDIDATES = 20

# "did I", "have I", "I've", "my last", "how has my ...": the question is about the user's own
# training history. A bare "my" ("how do I brace my core?") asks for advice, not history.
_PERSONAL = re.compile(
    r"\b(?:did|have|had|was|were)\s+i\b|\bi(?:'ve|\s+did|\s+have\s+been|\s+was|\s+\w+ed)\b"
    r"|\b(?:has|have|had)\s+my\b|\bmy\s+(?:last|latest|recent|previous|best|usual|current"
    r"|progress|history|log|workouts?|sessions?|training|runs?|lifts?|numbers|prs?|records?)\b"
    r"|\bmy\b.*\b(?:going|progress\w*|improv\w*|trend\w*)\b"
)


class QueryEmbedder(Protocol):
    """What the retriever needs from `spotter.retrieval.embedding.Embedder`."""

    async def embed_async(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> npt.NDArray[np.float32]: ...


class SpotterRetriever:
    """Implements `Retriever`.

    `documents` (the knowledge entries the store holds) build the BM25 index of hybrid mode;
    without them, or with `mode="dense"`, knowledge is ranked by similarity alone. Questions are
    embedded with the catalogue words the fitness vocabulary finds in them. A `bridge` (hybrid
    mode, for a store holding an outside catalogue) adds scores for the records named like the
    shipped knowledge base's best exercises, and weighs BM25 at CATALOGUE_LEXICAL_WEIGHT.
    Hit scores are cosine similarities (plus the fused shares in hybrid mode); date-matched
    workouts score 1.0.
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: QueryEmbedder,
        workouts: WorkoutRepository | None = None,
        *,
        documents: Sequence[KnowledgeDocument] = (),
        mode: Mode = "hybrid",
        bridge: KnowledgeBridge | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._workouts = workouts
        self._vocabulary = vocabulary if vocabulary is not None else default_vocabulary()
        self._documents = {doc.id: doc for doc in documents}
        hybrid = mode == "hybrid" and bool(documents)
        self._lexical = LexicalIndex.from_documents(documents) if hybrid else None
        self._bridge = bridge if hybrid else None
        self._titles = TitleMatcher(documents) if self._bridge is not None else None
        self._lexical_weight = CATALOGUE_LEXICAL_WEIGHT if self._bridge else LEXICAL_WEIGHT
        self._passage_terms: dict[str, list[tuple[Passage, frozenset[str]]]] = {}
        self._exercise_words = frozenset(
            word for doc in documents if doc.kind == "exercise" for word in terms(doc.title)
        )

    @property
    def mode(self) -> Mode:
        """"hybrid" when a lexical index fuses with the dense ranking, else "dense"."""
        return "hybrid" if self._lexical is not None else "dense"

    async def retrieve(self, query: RetrievalQuery) -> RetrievalResult:
        """Up to `query.top_k` hits: dated workouts first, then knowledge and similar workouts."""
        top_k = max(0, query.top_k)
        if top_k == 0 or not query.text.strip():
            return RetrievalResult()
        frame = resolve_timeframe(query.text, query.today)
        # The log is read while the question is embedded; cancelled with us if the turn is.
        dated_task = asyncio.ensure_future(
            dated_workouts(self._workouts, query, frame, self._exercise_words)
        )
        try:
            return await self._retrieve(query, top_k, frame, dated_task)
        finally:
            if not dated_task.done():
                dated_task.cancel()

    async def _retrieve(
        self,
        query: RetrievalQuery,
        top_k: int,
        frame: TimeFrame | Latest | None,
        dated_task: asyncio.Future[list[RetrievalHit]],
    ) -> RetrievalResult:
        personal = bool(_PERSONAL.search(query.text.lower().replace("\u2019", "'")))
        degraded = False
        expansion = self._vocabulary.expansion(query.text)
        vector: npt.NDArray[np.float32] | None = None
        expanded: npt.NDArray[np.float32] | None = None
        try:
            vector, expanded = await self._embed(query.text, expansion)
        except Exception:
            logger.exception("embedding the query failed; retrieval is degraded")
            degraded = True
        knowledge: list[Candidate] = []
        similar: list[Candidate] = []
        bridged: dict[str, float] = {}
        if vector is not None and expanded is not None:
            knowledge_result, workout_result, bridge_result = await asyncio.gather(
                self._store.query(KNOWLEDGE_NAMESPACE, expanded, _PASSAGES_PER_QUERY),
                self._store.query(workout_namespace(query.user_id), vector, top_k * 2),
                self._bridged(query.text, expanded, expansion),
                return_exceptions=True,
            )
            if isinstance(bridge_result, BaseException):
                _log_failure("knowledge bridge", bridge_result)
                degraded = True
            else:
                bridged = bridge_result
            if isinstance(knowledge_result, BaseException):
                _log_failure("knowledge search", knowledge_result)
                degraded = True
            else:
                knowledge = self._dense_knowledge(knowledge_result)
            if isinstance(workout_result, BaseException):
                _log_failure("workout search", workout_result)
                degraded = True
            else:
                similar = similar_workouts(workout_result, personal)
        if self._lexical is not None:
            knowledge = self._fuse(query.text, expansion, knowledge, bridged, top_k)
        try:
            dated = await dated_task
        except Exception as exc:
            _log_failure("workout log", exc)
            dated, degraded = [], True
            similar = within(frame, similar)  # the log is down: similar workouts stand in
        else:
            if frame is not None and self._workouts is not None:
                similar = []  # the log answered a dated question; similarity would add noise
        return RetrievalResult(merge_hits(dated, knowledge, similar, top_k, personal), degraded)

    async def fusion_scores(self, question: str) -> FusionScores:
        """The parts hybrid mode weighs for `question`'s knowledge candidates, as `retrieve`
        computes them (the catalogue weight fit reads these). Raises what the store or the
        model raises; dense mode has no lexical part."""
        expansion = self._vocabulary.expansion(question)
        _, expanded = await self._embed(question, expansion)
        matches = await self._store.query(KNOWLEDGE_NAMESPACE, expanded, _PASSAGES_PER_QUERY)
        bridged = await self._bridged(question, expanded, expansion)
        return self._scores(question, expansion, self._dense_knowledge(matches), bridged)

    async def _embed(
        self, question: str, expansion: Sequence[str]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The question as asked, and with the vocabulary's words added, in one forward pass.

        Knowledge is searched with the added words; the user's own workouts with the question
        as asked (their similarity floors were measured that way). Terms the question already
        holds ("squats" -> squat) would only embed it twice.
        """
        asked = set(terms(question))
        added = [term for term in expansion if term not in asked]
        texts = [question]
        if added:
            texts.append(self._vocabulary.expanded_question(question, added))
        vectors = await self._embedder.embed_async(texts)
        return vectors[0], vectors[-1]

    def _dense_knowledge(self, matches: Iterable[VectorMatch]) -> list[Candidate]:
        """One candidate per entry, from its best passage (matches arrive best first)."""
        seen: set[str] = set()
        ranked: list[Candidate] = []
        for match in matches:
            doc_id = metadata_text(match.metadata, "doc_id") or match.id
            if doc_id in seen:
                continue
            seen.add(doc_id)
            title = metadata_text(match.metadata, "title") or doc_id
            hit = RetrievalHit(doc_id, title, "knowledge", match.score, metadata_text(match.metadata, "text"))
            ranked.append(Candidate(hit, match.score))
        return ranked

    async def _bridged(
        self, question: str, vector: npt.NDArray[np.float32], expansion: Sequence[str]
    ) -> dict[str, float]:
        if self._bridge is None or self._titles is None:
            return {}
        exercises = await self._bridge.exercises(question, vector, expansion)
        return dict(KnowledgeBridge.catalogue_scores(exercises, self._titles))

    def _fuse(
        self,
        question: str,
        expansion: Sequence[str],
        dense: Sequence[Candidate],
        bridged: Mapping[str, float],
        top_k: int,
    ) -> list[Candidate]:
        """Dense similarity plus weighted BM25 (normalised by the query's best BM25 score),
        plus the bridge's catalogue scores; the best `top_k` (the merge takes no more).

        With a bridge (a catalogue), similarity is rescaled to 0..1 over the dense candidates:
        their raw cosines span ~0.12, too little beside BM25 and the bridge to tell
        near-duplicate records apart (docs/retrieval.md). The knowledge base keeps raw cosines
        (rescaled there, it drops from 0.938 to 0.869 hit@4).
        """
        scores = self._scores(question, expansion, dense, bridged)
        if not scores.lexical and not scores.bridge:
            return list(dense)
        fused = scores.fused(self._lexical_weight, BRIDGE_WEIGHT)
        by_id = {c.hit.id: c for c in dense}
        ranked: list[Candidate] = []
        wanted = frozenset(terms(question))
        for doc_id in sorted(fused, key=lambda i: (-fused[i], i)):
            if len(ranked) >= top_k:
                break
            found = by_id.get(doc_id) or self._lexical_candidate(doc_id, wanted)
            if found is not None:
                hit = found.hit
                scored = RetrievalHit(hit.id, hit.title, hit.source, fused[doc_id], hit.text)
                ranked.append(Candidate(scored, found.similarity))
        return ranked

    def _scores(
        self,
        question: str,
        expansion: Sequence[str],
        dense: Sequence[Candidate],
        bridged: Mapping[str, float],
    ) -> FusionScores:
        lexical = (
            self._lexical.search(question, _LEXICAL_CANDIDATES, expansion)
            if self._lexical is not None
            else []
        )
        similarity = {c.hit.id: c.similarity for c in dense}
        return FusionScores.of(similarity, lexical, bridged, rescale=self._bridge is not None)

    def _lexical_candidate(self, doc_id: str, wanted: frozenset[str]) -> Candidate | None:
        """An entry found by BM25 alone, shown by its passage sharing most words with the question."""
        doc = self._documents.get(doc_id)
        if doc is None:
            return None
        options = self._passage_terms.get(doc_id)
        if options is None:  # worked out once per entry: stemming every passage per turn was hot
            options = [(p, frozenset(terms(p.embed_text))) for p in passages(doc)]
            self._passage_terms[doc_id] = options
        best = max(options, key=lambda option: len(wanted & option[1]))[0]
        return Candidate(RetrievalHit(doc.id, doc.title, "knowledge", 0.0, best.text), 0.0)


def _log_failure(what: str, exc: BaseException) -> None:
    logger.warning("%s failed, retrieval is degraded: %s", what, exc, exc_info=exc)

