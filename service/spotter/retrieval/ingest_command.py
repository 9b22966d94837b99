"""`spotter ingest PATH --format FMT`: ingests a source into the configured store and records it.

Besides the vectors (`ingest`), the command records the source's documents under the data
directory (`ingested_sources`), so the running service can rank them lexically, and deletes
from the store the entries a re-ingested source no longer has. It owns what a command owns:
the settings' store, the progress bar, one summary line and the exit code.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from spotter.errors import BackendUnavailable, SpotterError
from spotter.retrieval.embedding import Embedder
from spotter.retrieval.ingest import IngestReport, ingest_documents, read_documents, remove_documents
from spotter.retrieval.ingested_sources import (
    IngestedSourceError,
    embedding_scheme,
    load_ingested_sources,
    read_ingested_source,
    source_key,
    source_record_path,
    write_ingested_source,
)
from spotter.retrieval.knowledge_base import KnowledgeDocument, KnowledgeFormatError, load_knowledge
from spotter.retrieval.stores import close_vector_store, open_vector_store
from spotter.settings import Settings

__all__ = ["run_ingest_command"]


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
