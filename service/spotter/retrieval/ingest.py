"""Embeds knowledge documents into the vector store, idempotently: `spotter ingest PATH`.

Vector ids are stable (`<entry id>#<passage>`), so ingesting the same file again replaces
instead of duplicating. Each vector carries a hash of its entry's content and of the embedding
model; entries whose stored hash matches are skipped without embedding, which makes a re-run
cheap, and passages an entry no longer has are deleted. The command around it is
`ingest_command`.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from spotter.retrieval.free_exercise_db import load_free_exercise_db
from spotter.retrieval.ingested_sources import embedding_scheme
from spotter.retrieval.knowledge_base import (
    KnowledgeDocument,
    KnowledgeFormatError,
    load_knowledge,
)
from spotter.retrieval.passages import Passage, passages
from spotter.retrieval.vector_store import (
    KNOWLEDGE_NAMESPACE,
    MetadataValue,
    VectorRecord,
    VectorStore,
)

__all__ = [
    "FORMATS",
    "DocumentEmbedder",
    "Format",
    "IngestReport",
    "ingest",
    "ingest_documents",
    "read_documents",
    "remove_documents",
]

Format = Literal["spotter", "free-exercise-db"]
FORMATS: tuple[Format, ...] = ("spotter", "free-exercise-db")

_DOCS_PER_BATCH = 64
_LOOKUP_LIMIT = 1_000  # Pinecone's largest top_k when metadata is returned


class DocumentEmbedder(Protocol):
    """What ingestion needs from `spotter.retrieval.embedding.Embedder`."""

    @property
    def fingerprint(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def embed_async(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class IngestReport:
    """How many entries were new, changed (re-embedded) and already up to date."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: IngestReport) -> IngestReport:
        return IngestReport(
            self.added + other.added,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def read_documents(path: Path, fmt: str) -> list[KnowledgeDocument]:
    """The entries of `path` in format `fmt`; raises KnowledgeFormatError for bad input."""
    if fmt == "spotter":
        if not path.exists():
            raise KnowledgeFormatError(f"{path}: no such file or directory")
        if path.is_file() and path.suffix.lower() != ".md":
            raise KnowledgeFormatError(f"{path}: the spotter format is a .md file or a directory")
        documents = load_knowledge(path)
        if not documents:
            raise KnowledgeFormatError(f"{path}: no .md entries found")
        return documents
    if fmt == "free-exercise-db":
        return load_free_exercise_db(path)
    raise KnowledgeFormatError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


async def ingest(
    path: Path,
    fmt: str,
    store: VectorStore,
    embedder: DocumentEmbedder,
    *,
    progress: bool = False,
    namespace: str = KNOWLEDGE_NAMESPACE,
) -> IngestReport:
    """Read `path` (`spotter` Markdown or `free-exercise-db` JSON) and upsert it."""
    documents = read_documents(path, fmt)
    return await ingest_documents(
        documents,
        store,
        embedder,
        progress=progress,
        namespace=namespace,
        lead_only=fmt == "free-exercise-db",
    )


async def ingest_documents(
    documents: Sequence[KnowledgeDocument],
    store: VectorStore,
    embedder: DocumentEmbedder,
    *,
    progress: bool = False,
    namespace: str = KNOWLEDGE_NAMESPACE,
    lead_only: bool = False,
) -> IngestReport:
    """Upsert the passages of every changed entry; a tqdm bar on stderr when `progress`."""
    report = IngestReport()
    with tqdm(
        total=len(documents), desc="ingest", unit="entry", file=sys.stderr, disable=not progress
    ) as bar:
        for start in range(0, len(documents), _DOCS_PER_BATCH):
            batch = documents[start : start + _DOCS_PER_BATCH]
            report += await _ingest_batch(batch, store, embedder, namespace, lead_only)
            bar.update(len(batch))
    return report


def _version(doc: KnowledgeDocument, embedder_fingerprint: str, lead_only: bool) -> str:
    digest = hashlib.sha256(doc.content_hash.encode())
    digest.update(f"|{embedding_scheme(embedder_fingerprint)}|lead={lead_only}".encode())
    return digest.hexdigest()


async def _ingest_batch(
    batch: Sequence[KnowledgeDocument],
    store: VectorStore,
    embedder: DocumentEmbedder,
    namespace: str,
    lead_only: bool,
) -> IngestReport:
    existing = await _stored_versions(store, namespace, [d.id for d in batch], embedder)
    added = updated = unchanged = 0
    to_embed: list[tuple[KnowledgeDocument, str, list[Passage]]] = []
    stale_ids: list[str] = []
    for doc in batch:
        version = _version(doc, embedder.fingerprint, lead_only)
        stored = existing.get(doc.id)
        if stored is not None and stored.versions == {version}:
            unchanged += 1
            continue
        pieces = passages(doc, lead_only=lead_only)
        to_embed.append((doc, version, pieces))
        if stored is None:
            added += 1
        else:
            updated += 1
            keep = {p.id for p in pieces}
            stale_ids.extend(sorted(stored.ids - keep))
    texts = [p.embed_text for _, _, pieces in to_embed for p in pieces]
    if texts:
        vectors = await embedder.embed_async(texts)
        records: list[VectorRecord] = []
        row = 0
        for doc, version, pieces in to_embed:
            for piece in pieces:
                metadata = _metadata(doc, piece, version, len(pieces))
                records.append(VectorRecord(piece.id, vectors[row], metadata))
                row += 1
        await store.upsert(namespace, records)
    if stale_ids:
        await store.delete(namespace, stale_ids)
    return IngestReport(added, updated, unchanged)


def _metadata(
    doc: KnowledgeDocument, piece: Passage, version: str, count: int
) -> dict[str, MetadataValue]:
    metadata: dict[str, MetadataValue] = dict(doc.metadata)
    metadata.update(
        {
            "doc_id": doc.id,
            "title": doc.title,
            "text": piece.text,
            "source": "knowledge",
            "kind": doc.kind,
            "passage": piece.index,
            "passages": count,
            "version": version,
        }
    )
    return metadata


@dataclass(slots=True)
class _Stored:
    ids: set[str]
    versions: set[str]


async def _stored_versions(
    store: VectorStore, namespace: str, doc_ids: Sequence[str], embedder: DocumentEmbedder
) -> dict[str, _Stored]:
    """What the store already holds for these entries, found with a metadata-filtered query
    (the VectorStore interface has no fetch-by-id; the query vector is irrelevant here)."""
    probe = np.zeros(embedder.dimension, dtype=np.float32)
    probe[0] = 1.0
    matches = await store.query(
        namespace, probe, _LOOKUP_LIMIT, filter={"doc_id": {"$in": list(doc_ids)}}
    )
    if len(matches) >= _LOOKUP_LIMIT and len(doc_ids) > 1:  # may be cut off: ask in halves
        half = len(doc_ids) // 2
        first = await _stored_versions(store, namespace, doc_ids[:half], embedder)
        return first | await _stored_versions(store, namespace, doc_ids[half:], embedder)
    found: dict[str, _Stored] = {}
    for match in matches:
        doc_id, version = match.metadata.get("doc_id"), match.metadata.get("version")
        if not isinstance(doc_id, str):
            continue
        entry = found.setdefault(doc_id, _Stored(set(), set()))
        entry.ids.add(match.id)
        entry.versions.add(version if isinstance(version, str) else "")
    return found


async def remove_documents(
    store: VectorStore,
    embedder: DocumentEmbedder,
    doc_ids: Sequence[str],
    *,
    namespace: str = KNOWLEDGE_NAMESPACE,
) -> int:
    """Delete every passage of these entries; how many passages were removed."""
    removed = 0
    for start in range(0, len(doc_ids), _DOCS_PER_BATCH):
        stored = await _stored_versions(
            store, namespace, doc_ids[start : start + _DOCS_PER_BATCH], embedder
        )
        ids = sorted(i for entry in stored.values() for i in entry.ids)
        if ids:
            await store.delete(namespace, ids)
            removed += len(ids)
    return removed
