"""Embeds knowledge documents into the vector store, idempotently: `spotter ingest PATH`.

Vector ids are stable (`<entry id>#<passage>`), so ingesting the same file again replaces
instead of duplicating. Each vector carries a hash of its entry's content and of the embedding
model; entries whose stored hash matches are skipped without embedding, which makes a re-run
cheap, and passages an entry no longer has are deleted. The command also records the source's
documents under the data directory (`ingested_sources`), so the running service can rank them
lexically; entries a re-ingested source no longer has are deleted from the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from spotter.errors import BackendUnavailable, SpotterError
from spotter.retrieval.embedding import Embedder
from spotter.retrieval.free_exercise_db import load_free_exercise_db
from spotter.retrieval.ingested_sources import (
    IngestedSourceError,
    embedding_scheme,
    load_ingested_sources,
    read_ingested_source,
    source_key,
    source_record_path,
    write_ingested_source,
)
from spotter.retrieval.knowledge_base import (
    KnowledgeDocument,
    KnowledgeFormatError,
    load_knowledge,
)
from spotter.retrieval.passages import Passage, passages
from spotter.retrieval.stores import close_vector_store, open_vector_store
from spotter.retrieval.vector_store import (
    KNOWLEDGE_NAMESPACE,
    MetadataValue,
    VectorRecord,
    VectorStore,
)
from spotter.settings import Settings

__all__ = [
    "FORMATS",
    "DocumentEmbedder",
    "Format",
    "IngestReport",
    "ingest",
    "ingest_documents",
    "read_documents",
    "remove_documents",
    "run_ingest_command",
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


def run_ingest_command(settings: Settings, path: Path, fmt: str) -> int:
    """`spotter ingest PATH --format FMT`: ingest into the configured store, record the source
    under the data directory (`ingested_sources`), print one line.

    Entries the source held last time but no longer has are removed from the store. Returns 0
    on success, 2 for unusable input, 1 when the store or the data directory cannot be written.
    """
    try:
        documents = read_documents(path, fmt)
    except KnowledgeFormatError as exc:
        print(f"spotter ingest: {exc}", file=sys.stderr)
        return 2
    try:
        report, removed, embedding = asyncio.run(_ingest_with(settings, path, fmt, documents))
    except (BackendUnavailable, SpotterError, OSError) as exc:
        print(f"spotter ingest: the vector store is unavailable: {exc}", file=sys.stderr)
        return 1
    try:
        write_ingested_source(settings.data_dir, path, fmt, documents, embedding=embedding)
    except OSError as exc:
        print(f"spotter ingest: cannot record the source in {settings.data_dir}: {exc}",
              file=sys.stderr)
        return 1
    gone = f", {removed} removed" if removed else ""
    print(
        f"ingested {len(documents)} entries from {path}: {report.added} added, "
        f"{report.updated} updated, {report.unchanged} unchanged{gone}"
    )
    return 0


async def _ingest_with(
    settings: Settings, path: Path, fmt: str, documents: Sequence[KnowledgeDocument]
) -> tuple[IngestReport, int, str]:
    """The ingest report, how many entries were removed, and the vectors' `embedding_scheme`."""
    embedder = Embedder()
    store = open_vector_store(settings)
    try:
        report = await ingest_documents(
            documents, store, embedder, progress=True, lead_only=fmt == "free-exercise-db"
        )
        gone = _dropped_ids(settings, source_key(path, fmt), {d.id for d in documents})
        removed = await remove_documents(store, embedder, gone) if gone else 0
        return report, removed, embedding_scheme(embedder.fingerprint)
    finally:
        await close_vector_store(store)
        embedder.close()


def _dropped_ids(settings: Settings, key: str, current: set[str]) -> list[str]:
    """Ids the source's previous record held that nothing holds now: not this ingest, not
    another recorded source, not the shipped knowledge base."""
    record = source_record_path(settings.data_dir, key)
    if not record.exists():
        return []
    try:
        previous = read_ingested_source(record)
    except IngestedSourceError as exc:  # replaced below; its entries can no longer be known
        print(f"spotter ingest: replacing an unreadable record: {exc}", file=sys.stderr)
        return []
    kept = set(current) | {d.id for d in load_knowledge()}
    for source in load_ingested_sources(settings.data_dir):
        if source.key != key:
            kept |= source.ids
    return sorted(previous.ids - kept)
