"""Ranks ingested exercise catalogues beside the knowledge base, though both share one namespace.

`spotter ingest --format free-exercise-db` puts catalogue records into the knowledge
namespace, next to the shipped knowledge base. The two are ranked differently on purpose
(docs/retrieval.md): knowledge entries by similarity + BM25 at the knowledge weight, catalogue
records by similarity + BM25 at the catalogue weight + the knowledge bridge. Ranking them as
one corpus would give the knowledge base the catalogue's weights and let 873 terse records
crowd its entries out. So each part gets a `SpotterRetriever` of its own over a
`ScopedKnowledgeStore` (the namespace seen through its document ids), and `CatalogueSearch`
merges the two ranked lists; see `merge_ranked` for the rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from spotter.retrieval.base import RetrievalHit, RetrievalQuery, RetrievalResult, Retriever
from spotter.retrieval.ingested_sources import IngestedSource
from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.knowledge_bridge import KnowledgeBridge
from spotter.retrieval.retriever import QueryEmbedder, SpotterRetriever
from spotter.retrieval.vector_store import (
    KNOWLEDGE_NAMESPACE,
    VectorMatch,
    VectorRecord,
    VectorStore,
)
from spotter.workouts.repository import WorkoutRepository

__all__ = ["CatalogueSearch", "ScopedKnowledgeStore", "build_retriever", "merge_ranked"]

#: The widest single query while looking for enough in-scope passages (Pinecone returns at
#: most 1,000 matches with metadata).
_MAX_FETCH = 1_000


class ScopedKnowledgeStore:
    """A `VectorStore` whose knowledge namespace holds only the passages of `doc_ids`
    (`inside=True`) or only those of every other entry (`inside=False`).

    Queries over-fetch from the shared namespace and drop out-of-scope passages by their
    `doc_id`, widening until `top_k` are found or the namespace is exhausted (a metadata
    `$in` filter over hundreds of ids would be slow locally and is capped by Pinecone).
    With `knowledge_only`, other namespaces (users' workouts) look empty. Writes pass through.
    """

    def __init__(
        self,
        store: VectorStore,
        doc_ids: Collection[str],
        *,
        inside: bool,
        knowledge_only: bool = False,
    ) -> None:
        self._store = store
        self._ids = frozenset(doc_ids)
        self._inside = inside
        self._knowledge_only = knowledge_only

    async def query(
        self,
        namespace: str,
        vector: npt.NDArray[np.float32],
        top_k: int,
        filter: Mapping[str, object] | None = None,
    ) -> list[VectorMatch]:
        """The `top_k` in-scope records most similar to `vector`, best first."""
        if namespace != KNOWLEDGE_NAMESPACE:
            if self._knowledge_only:
                return []
            return await self._store.query(namespace, vector, top_k, filter)
        fetch = min(_MAX_FETCH, 4 * top_k)
        while True:
            matches = await self._store.query(namespace, vector, fetch, filter)
            kept = [m for m in matches if self._in_scope(m)]
            if len(kept) >= top_k or len(matches) < fetch or fetch >= _MAX_FETCH:
                return kept[:top_k]
            fetch = min(_MAX_FETCH, 4 * fetch)

    def _in_scope(self, match: VectorMatch) -> bool:
        doc_id = match.metadata.get("doc_id")
        return (doc_id in self._ids) is self._inside

    async def upsert(self, namespace: str, records: Sequence[VectorRecord]) -> None:
        """Passes through to the shared store."""
        await self._store.upsert(namespace, records)

    async def delete(self, namespace: str, ids: Sequence[str]) -> None:
        """Passes through to the shared store."""
        await self._store.delete(namespace, ids)

    async def delete_namespace(self, namespace: str) -> None:
        """Passes through to the shared store."""
        await self._store.delete_namespace(namespace)

    async def ping(self) -> bool:
        """Whether the shared store is reachable."""
        return await self._store.ping()


class _SharedEmbedding:
    """Both parts embed the same question at the same moment: the second call awaits the
    first one's forward pass instead of queueing its own (a `QueryEmbedder`)."""

    def __init__(self, embedder: QueryEmbedder) -> None:
        self._embedder = embedder
        self._pending: dict[tuple[str, ...], asyncio.Future[npt.NDArray[np.float32]]] = {}

    async def embed_async(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> npt.NDArray[np.float32]:
        key = tuple(texts)
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        task = asyncio.ensure_future(self._embedder.embed_async(texts, batch_size))
        self._pending[key] = task
        task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)


def merge_ranked(
    primary: Sequence[RetrievalHit],
    catalogue: Sequence[RetrievalHit],
    top_k: int,
    exercises: Collection[str],
) -> tuple[RetrievalHit, ...]:
    """The primary hits with catalogue records in up to half the slots, or none at all.

    Records get `top_k // 2` slots when the knowledge base's best entry is an exercise (in
    `exercises`): the question is about a movement, which is what a catalogue describes. When
    it is a guide (sleep, programming, nutrition), records only fill slots the primary list
    left empty. Records replace the lowest-ranked knowledge entries, never workouts nor the
    best entry, and follow the knowledge entries one each: K1 C1 K2 C2 (docs/retrieval.md).
    """
    chosen = list(primary[:top_k])
    knowledge = [hit for hit in chosen if hit.source == "knowledge"]
    share = top_k // 2 if knowledge and knowledge[0].id in exercises else 0
    free = top_k - len(chosen)
    drop = max(0, min(share, len(knowledge) - 1, len(catalogue) - free))
    dropped = {hit.id for hit in knowledge[len(knowledge) - drop :]} if drop else set()
    records = list(catalogue[: free + drop])
    merged: list[RetrievalHit] = []
    for hit in chosen:
        if hit.id in dropped:
            continue
        merged.append(hit)
        if hit.source == "knowledge" and records:
            merged.append(records.pop(0))
    return tuple(merged + records)


class CatalogueSearch:
    """Implements `Retriever`: the knowledge base and the user's workouts (`primary`), plus the
    ingested catalogues (`catalogue`, knowledge namespace only), merged by `merge_ranked`."""

    def __init__(
        self, primary: Retriever, catalogue: Retriever, exercises: Collection[str]
    ) -> None:
        self._primary = primary
        self._catalogue = catalogue
        self._exercises = frozenset(exercises)

    async def retrieve(self, query: RetrievalQuery) -> RetrievalResult:
        """Up to `query.top_k` hits from both; `degraded` if either part was."""
        main, extra = await asyncio.gather(
            self._primary.retrieve(query), self._catalogue.retrieve(query)
        )
        hits = merge_ranked(main.hits, extra.hits, max(0, query.top_k), self._exercises)
        return RetrievalResult(hits, main.degraded or extra.degraded)


def build_retriever(
    store: VectorStore,
    embedder: QueryEmbedder,
    workouts: WorkoutRepository | None,
    knowledge: Sequence[KnowledgeDocument],
    sources: Sequence[IngestedSource] = (),
) -> Retriever:
    """The service's retriever over the shipped `knowledge` and the ingested `sources`.

    Sources in the knowledge base's own format join it (one BM25 index, knowledge weights);
    with no catalogue among the sources this is the plain `SpotterRetriever`, exactly as the
    knowledge evaluation measures it. Catalogue sources make it a `CatalogueSearch`. An id
    held twice is ranked once: the shipped entry first, then the first source in key order.
    """
    seen = {doc.id for doc in knowledge}
    documents = list(knowledge)
    records: list[KnowledgeDocument] = []
    for source in sources:
        for doc in source.documents:
            if doc.id in seen:
                continue
            seen.add(doc.id)
            (records if source.is_catalogue else documents).append(doc)
    if not records:
        return SpotterRetriever(store, embedder, workouts, documents=documents)
    ids = {doc.id for doc in records}
    embedder = _SharedEmbedding(embedder)
    outside = ScopedKnowledgeStore(store, ids, inside=False)
    inside = ScopedKnowledgeStore(store, ids, inside=True, knowledge_only=True)
    primary = SpotterRetriever(outside, embedder, workouts, documents=documents)
    bridge = KnowledgeBridge(outside, documents)
    catalogue = SpotterRetriever(inside, embedder, None, documents=records, bridge=bridge)
    exercises = {doc.id for doc in documents if doc.kind == "exercise"}
    return CatalogueSearch(primary, catalogue, exercises)
