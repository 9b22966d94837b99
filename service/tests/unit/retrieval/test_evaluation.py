"""Retrieval quality on held-out questions: hit@4 and MRR for dense, hybrid and BM25 ranking.

The knowledge questions (exercise + guide sets) run against the session's shipped index; the
free-exercise-db questions against the public catalogue as `spotter ingest` leaves it beside
the knowledge base (ingested once more into a copy, which must add nothing), searched through
the catalogue's part of the namespace and the knowledge bridge. Catalogue scores
are also printed per group: tuning / held-out (alternate lines of the first 65), new
(written after the method was frozen), fresh (written blind after the knowledge base grew) and
blind2 to blind11 (more blind sets; blind4 and blind5 judged the fitted catalogue weights,
blind6's to blind11's exercises were drawn at random).
Numbers are recorded in docs/retrieval.md.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
import yaml

from spotter.retrieval.base import RetrievalQuery
from spotter.retrieval.catalogue_search import ScopedKnowledgeStore
from spotter.retrieval.free_exercise_db import ID_PREFIX, load_free_exercise_db
from spotter.retrieval.ingest import IngestReport, ingest
from spotter.retrieval.knowledge_base import KnowledgeDocument, load_knowledge
from spotter.retrieval.knowledge_bridge import KnowledgeBridge
from spotter.retrieval.lexical import LexicalIndex, terms
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.retriever import BRIDGE_WEIGHT, CATALOGUE_LEXICAL_WEIGHT, SpotterRetriever
from spotter.retrieval.stores import local_vectors_dir
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorStore
from spotter.retrieval.vocabulary import default_vocabulary
from tests.retrieval_fixtures import KnowledgeIndex
from tests.support.index_cache import FREE_EXERCISE_DB

EVAL_DIR = Path(__file__).resolve().parents[2] / "data" / "retrieval_eval"
MIN_HIT_AT_4 = 0.85
# The public catalogue's paraphrased questions: since records carry the project's everyday
# descriptions (catalogue_descriptions.py) the hybrid with the knowledge bridge reaches 0.919 on
# all 541 (BM25 0.909); blind10 judged the descriptions (0.750 -> 0.900) and blind11, written
# after the weights were chosen, the whole method once (0.900). Before the descriptions: 0.713
# on the first 501, 0.709 on the first 461 (docs/retrieval.md has every figure).
MIN_CATALOGUE_HYBRID = 0.90
MIN_CATALOGUE_BM25 = 0.88
#: Catalogue question sets written after tuning, each reported apart: `new` after the method was
#: frozen; `fresh` and the `blind` sets blind, by writers who saw neither the knowledge base nor
#: the code.
QUESTION_SETS = (
    "new", "fresh", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9",
    "blind10", "blind11",
)  # fmt: skip
#: The sets whose exercises were drawn at random from the catalogue, the fairest sample of
#: "questions about its exercises".
RANDOM_DRAWS = ("blind6", "blind7", "blind8", "blind9", "blind10", "blind11")
RANKED = 10  # MRR looks this far down
TODAY = date(2026, 11, 18)


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    expected: tuple[str, ...]
    group: str = ""  # catalogue: "tuning", "held-out" (alternate lines), or its set


@dataclass(frozen=True, slots=True)
class Scores:
    hit_at_4: float
    mrr: float
    mean_ms: float
    p95_ms: float
    misses: tuple[str, ...]

    def row(self, name: str) -> str:
        return (f"{name:<24} hit@4 {self.hit_at_4:.3f}  MRR {self.mrr:.3f}  "
                f"latency mean {self.mean_ms:.1f} ms, p95 {self.p95_ms:.1f} ms")  # fmt: skip


def load_questions(name: str, prefix: str = "", *, grouped: bool = False) -> list[Question]:
    raw = yaml.safe_load((EVAL_DIR / name).read_text(encoding="utf-8"))
    return [
        Question(
            q["question"], tuple(prefix + e for e in q["expected"]), _group(q, i) if grouped else ""
        )
        for i, q in enumerate(raw)
    ]


def _group(raw: dict[str, object], index: int) -> str:
    """The first 65 catalogue questions were split before tuning: even lines tuned the method,
    odd lines were held out; the others carry their `set` (QUESTION_SETS)."""
    if raw.get("set") in QUESTION_SETS:
        return str(raw["set"])
    return "tuning" if index % 2 == 0 else "held-out"


KNOWLEDGE_QUESTIONS = load_questions("exercise_questions.yaml") + load_questions(
    "guide_questions.yaml"
)
FEDB_QUESTIONS = load_questions("free_exercise_db_questions.yaml", ID_PREFIX, grouped=True)

Ranker = Callable[[str], Awaitable[list[str]]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One question's run: where its first expected document ranked (None: not in the top
    RANKED) and how long the ranking took. Kept per question so groups are scored from one run."""

    text: str
    position: int | None
    latency_ms: float


async def run(rank: Ranker, questions: Sequence[Question]) -> list[Outcome]:
    outcomes = []
    for question in questions:
        started = time.perf_counter()
        ranked = await rank(question.text)
        latency_ms = (time.perf_counter() - started) * 1000
        position = next((i for i, d in enumerate(ranked[:RANKED]) if d in question.expected), None)
        outcomes.append(Outcome(question.text, position, latency_ms))
    return outcomes


def summarize(outcomes: Sequence[Outcome]) -> Scores:
    found = [o.position for o in outcomes if o.position is not None]
    latencies = sorted(o.latency_ms for o in outcomes)
    return Scores(
        sum(1 for p in found if p < 4) / len(outcomes),
        sum(1 / (p + 1) for p in found) / len(outcomes),
        statistics.fmean(latencies),
        latencies[int(0.95 * (len(latencies) - 1))],
        tuple(o.text for o in outcomes if o.position is None or o.position >= 4),
    )


async def evaluate(rank: Ranker, questions: Sequence[Question]) -> Scores:
    return summarize(await run(rank, questions))


def retriever_ranker(retriever: SpotterRetriever) -> Ranker:
    async def rank(text: str) -> list[str]:
        # A user with no workouts: only knowledge can answer.
        result = await retriever.retrieve(RetrievalQuery("evaluator", text, TODAY, top_k=RANKED))
        return [hit.id for hit in result.hits]

    return rank


def bm25_ranker(documents: Sequence[KnowledgeDocument]) -> Ranker:
    index = LexicalIndex.from_documents(documents)
    vocabulary = default_vocabulary()

    async def rank(text: str) -> list[str]:
        return [doc_id for doc_id, _ in index.search(text, RANKED, vocabulary.expansion(text))]

    return rank


async def scores_for(
    store: VectorStore, knowledge_index: KnowledgeIndex, documents: Sequence[KnowledgeDocument],
    questions: Sequence[Question], bridge: KnowledgeBridge | None = None,
    unions: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Scores]:  # fmt: skip
    """Dense, hybrid and BM25 scores over `questions`, then hybrid and BM25 per group and per
    union of groups (`unions`: name -> groups), keyed like "hybrid blind6 (40)"."""
    embedder = knowledge_index.embedder
    dense = SpotterRetriever(store, embedder, None, documents=documents, mode="dense")
    hybrid = SpotterRetriever(
        store, embedder, None, documents=documents, mode="hybrid", bridge=bridge
    )
    await embedder.embed_async(["warm-up"])  # the first call loads the weights
    hybrid_runs = await run(retriever_ranker(hybrid), questions)
    bm25_runs = await run(bm25_ranker(documents), questions)
    scores = {
        "dense": await evaluate(retriever_ranker(dense), questions),
        "hybrid": summarize(hybrid_runs),
        "bm25": summarize(bm25_runs),
    }
    parts = {group: {group} for group in sorted({q.group for q in questions if q.group})}
    for name, groups in {**parts, **(unions or {})}.items():
        part = [i for i, q in enumerate(questions) if q.group in groups]
        scores[f"hybrid {name} ({len(part)})"] = summarize([hybrid_runs[i] for i in part])
        scores[f"bm25 {name} ({len(part)})"] = summarize([bm25_runs[i] for i in part])
    return scores


def title_overlap(questions: Sequence[Question], titles: dict[str, str]) -> float:
    """Mean share of a question's words (stop words removed, stemmed) found in the title of its
    best expected entry: low means the questions do not simply repeat the titles."""
    shares = []
    for question in questions:
        words = set(terms(question.text))
        title = set(terms(titles[question.expected[0]]))
        shares.append(len(words & title) / len(words) if words else 0.0)
    return statistics.fmean(shares)


def report(title: str, scores: dict[str, Scores], overlap: float, count: int) -> None:
    lines = [f"\n{title} ({count} questions; question/title word overlap {overlap:.3f})"]
    lines += [s.row(name) for name, s in scores.items()]
    lines += [f"  hybrid miss: {q}" for q in scores["hybrid"].misses]
    print("\n".join(lines))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def knowledge_scores(knowledge_index: KnowledgeIndex) -> dict[str, Scores]:
    documents = load_knowledge()
    return await scores_for(
        knowledge_index.open_store(), knowledge_index, documents, KNOWLEDGE_QUESTIONS
    )


@dataclass(frozen=True, slots=True)
class Catalogue:
    store: VectorStore  # the catalogue's part of the shared namespace
    again: IngestReport  # a second ingest of the same file
    counts: tuple[int, int]  # catalogue vectors before and after it


async def record_count(store: VectorStore, doc_ids: frozenset[str]) -> int:
    everything = await store.query(KNOWLEDGE_NAMESPACE, np.ones(384, dtype=np.float32), 100_000)
    return sum(m.metadata.get("doc_id") in doc_ids for m in everything)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def catalogue(
    catalogue_index: Path, knowledge_index: KnowledgeIndex, tmp_path_factory: pytest.TempPathFactory
) -> Catalogue:
    """The session's `catalogue_index` (the file ingested once by the real `spotter ingest`,
    beside the knowledge base), copied and ingested a second time; searched, as the service
    does, through the catalogue's part of the namespace only."""
    ids = frozenset(d.id for d in load_free_exercise_db(FREE_EXERCISE_DB))
    vectors = local_vectors_dir(tmp_path_factory.mktemp("catalogue-again"))
    shutil.copytree(local_vectors_dir(catalogue_index), vectors)
    store = LocalVectorStore(vectors)
    before = await record_count(store, ids)
    again = await ingest(FREE_EXERCISE_DB, "free-exercise-db", store, knowledge_index.embedder)
    after = await record_count(store, ids)
    return Catalogue(ScopedKnowledgeStore(store, ids, inside=True), again, (before, after))


def test_the_knowledge_question_sets_are_large_and_point_at_real_entries() -> None:
    ids = {d.id for d in load_knowledge()}
    assert len(KNOWLEDGE_QUESTIONS) >= 60
    assert all(set(q.expected) <= ids for q in KNOWLEDGE_QUESTIONS)


def test_knowledge_questions_find_their_entry(
    knowledge_scores: dict[str, Scores], capsys: pytest.CaptureFixture[str]
) -> None:
    titles = {d.id: d.title for d in load_knowledge()}
    overlap = title_overlap(KNOWLEDGE_QUESTIONS, titles)
    with capsys.disabled():
        report("Knowledge base", knowledge_scores, overlap, len(KNOWLEDGE_QUESTIONS))
    assert knowledge_scores["hybrid"].hit_at_4 >= MIN_HIT_AT_4
    # The questions avoid title words on purpose; if they stopped doing so, the numbers above
    # would flatter the retriever.
    assert overlap < 0.3


def test_hybrid_ranking_beats_each_of_its_parts(knowledge_scores: dict[str, Scores]) -> None:
    hybrid = knowledge_scores["hybrid"]
    for part in ("dense", "bm25"):
        assert hybrid.hit_at_4 > knowledge_scores[part].hit_at_4, part
        assert hybrid.mrr > knowledge_scores[part].mrr, part


def test_reingesting_the_public_catalogue_adds_nothing(catalogue: Catalogue) -> None:
    assert catalogue.again == IngestReport(added=0, updated=0, unchanged=873)
    assert catalogue.counts == (873, 873)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def catalogue_scores(
    catalogue: Catalogue, knowledge_index: KnowledgeIndex
) -> dict[str, Scores]:
    documents = load_free_exercise_db(FREE_EXERCISE_DB)
    assert all(set(q.expected) <= {d.id for d in documents} for q in FEDB_QUESTIONS)
    # The shipped knowledge base (its own index) leads the search into the catalogue.
    bridge = KnowledgeBridge(knowledge_index.open_store(), load_knowledge())
    return await scores_for(
        catalogue.store, knowledge_index, documents, FEDB_QUESTIONS, bridge,
        unions={"random draws": RANDOM_DRAWS},
    )  # fmt: skip


def test_free_exercise_db_questions_keep_their_measured_quality(
    catalogue_scores: dict[str, Scores], capsys: pytest.CaptureFixture[str]
) -> None:
    documents = load_free_exercise_db(FREE_EXERCISE_DB)
    overlap = title_overlap(FEDB_QUESTIONS, {d.id: d.title for d in documents})
    with capsys.disabled():
        report("free-exercise-db", catalogue_scores, overlap, len(FEDB_QUESTIONS))
    assert len(FEDB_QUESTIONS) >= 100
    for question_set in QUESTION_SETS:
        assert sum(q.group == question_set for q in FEDB_QUESTIONS) >= 30, question_set
    assert catalogue_scores["hybrid"].hit_at_4 >= MIN_CATALOGUE_HYBRID
    assert catalogue_scores["hybrid"].hit_at_4 > catalogue_scores["bm25"].hit_at_4
    assert catalogue_scores["bm25"].hit_at_4 >= MIN_CATALOGUE_BM25
    assert overlap < 0.3


def test_free_exercise_db_questions_reach_the_target(catalogue_scores: dict[str, Scores]) -> None:
    assert catalogue_scores["hybrid"].hit_at_4 >= MIN_HIT_AT_4
    drawn = sum(q.group in RANDOM_DRAWS for q in FEDB_QUESTIONS)
    assert catalogue_scores[f"hybrid random draws ({drawn})"].hit_at_4 >= MIN_HIT_AT_4


async def test_the_weight_fit_reads_the_parts_the_retriever_ranks_by(
    catalogue: Catalogue, knowledge_index: KnowledgeIndex
) -> None:
    """`fusion_scores` (what tests/support/catalogue_weights.py fits) weighed at the shipped
    weights orders the catalogue exactly as `retrieve` does."""
    bridge = KnowledgeBridge(knowledge_index.open_store(), load_knowledge())
    documents = load_free_exercise_db(FREE_EXERCISE_DB)
    retriever = SpotterRetriever(
        catalogue.store, knowledge_index.embedder, None, documents=documents, bridge=bridge
    )
    for question in FEDB_QUESTIONS[::19]:
        fused = (await retriever.fusion_scores(question.text)).fused(
            CATALOGUE_LEXICAL_WEIGHT, BRIDGE_WEIGHT
        )
        expected = sorted(fused, key=lambda i: (-fused[i], i))[:RANKED]
        found = await retriever_ranker(retriever)(question.text)
        assert found == expected, question.text
