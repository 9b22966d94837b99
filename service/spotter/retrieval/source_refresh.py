"""Re-embeds ingested sources whose vectors another model or passage scheme made, and says
which catalogue sources predate the everyday descriptions shipped for their records.

The shipped knowledge index rebuilds itself when its fingerprint changes (`index`), but what
`spotter ingest` added lives only in the store and in its record. After an upgrade that changes
the model or the passage rules, those old vectors would still be searched and would silently
match questions badly. Start-up therefore compares each record's `embedding` with the running
embedder and re-embeds the stale sources from the documents their records hold (the original
file may be gone), then rewrites the records. A store that cannot be written leaves the old
vectors in place with a warning: the service still starts.

A catalogue ingested before its records' everyday descriptions (`catalogue_descriptions`) were
written or changed cannot be brought up to date from its record alone: the descriptions are
added to records read from the source file. Start-up logs a warning naming the command instead.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from spotter.errors import SpotterError
from spotter.retrieval.free_exercise_db import CATALOGUE, lacking_descriptions
from spotter.retrieval.index import build_lock
from spotter.retrieval.ingest import DocumentEmbedder, ingest_documents
from spotter.retrieval.ingested_sources import (
    IngestedSource,
    embedding_scheme,
    load_ingested_sources,
    record_ingested_source,
)
from spotter.retrieval.stores import flush_vector_store
from spotter.retrieval.vector_store import VectorStore

__all__ = ["refresh_ingested_sources"]

logger = logging.getLogger(__name__)


async def refresh_ingested_sources(
    data_dir: Path, store: VectorStore, embedder: DocumentEmbedder
) -> list[IngestedSource]:
    """Every readable source under `data_dir`, each re-embedded first if its vectors are stale."""
    current = embedding_scheme(embedder.fingerprint)
    sources = load_ingested_sources(data_dir)
    if any(s.embedding != current for s in sources):
        async with build_lock(data_dir):  # read again: another worker may have just done it
            sources = load_ingested_sources(data_dir)
            sources = [await _refreshed(data_dir, s, store, embedder, current) for s in sources]
    for source in sources:
        _warn_if_descriptions_changed(source)
    return sources


def _warn_if_descriptions_changed(source: IngestedSource) -> None:
    if source.format != CATALOGUE:
        return
    lacking = lacking_descriptions(source.documents)
    if lacking:
        logger.warning(
            "ingested source %s: %d records lack the everyday descriptions this release ships "
            "for them (first %s), so questions in plain words find them less often; run "
            "`spotter ingest %s --format %s` again", source.key, len(lacking), lacking[0],
            source.path, source.format,
        )  # fmt: skip


async def _refreshed(
    data_dir: Path,
    source: IngestedSource,
    store: VectorStore,
    embedder: DocumentEmbedder,
    current: str,
) -> IngestedSource:
    if source.embedding == current:
        return source
    logger.warning(
        "re-embedding ingested source %s (%d entries): its vectors were made with %s, this "
        "service embeds with %s", source.key, len(source.documents),
        source.embedding or "an unrecorded model", current,
    )  # fmt: skip
    try:
        report = await ingest_documents(
            source.documents, store, embedder, lead_only=source.is_catalogue
        )
        await flush_vector_store(store)
        refreshed = record_ingested_source(data_dir, dataclasses.replace(source, embedding=current))
    except (SpotterError, OSError) as exc:
        logger.warning(
            "could not re-embed ingested source %s, its old vectors stay until `spotter ingest "
            "%s --format %s` succeeds: %s", source.key, source.path, source.format, exc,
        )  # fmt: skip
        return source
    logger.info("re-embedded ingested source %s: %s", source.key, report)
    return refreshed
