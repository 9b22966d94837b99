"""Builds the knowledge index on first start, and rebuilds it only when it is stale.

The index is versioned by one fingerprint: the shipped knowledge files, the embedding model,
the passage-splitting scheme and where the vectors live. The fingerprint of the last build is
kept in `<SPOTTER_DATA_DIR>/index.json` (written atomically); a matching fingerprint and a
non-empty knowledge namespace make start-up a no-op that costs one small query.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from spotter.retrieval.atomic_file import replace_atomically
from spotter.retrieval.ingest import (
    DocumentEmbedder,
    IngestReport,
    ingest_documents,
    remove_documents,
)
from spotter.retrieval.knowledge_base import KNOWLEDGE_DIR, knowledge_fingerprint, load_knowledge
from spotter.retrieval.passages import PASSAGE_SCHEME
from spotter.retrieval.stores import flush_vector_store, open_vector_store, store_identity
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorStore
from spotter.settings import Settings

__all__ = [
    "INDEX_FILE",
    "IndexStatus",
    "build_lock",
    "ensure_knowledge_index",
    "index_fingerprint",
    "open_vector_store",
    "read_index_state",
]

logger = logging.getLogger(__name__)

#: The build record, relative to the data directory.
INDEX_FILE = "index.json"
_LOCK_FILE = ".index.lock"
_STATE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """What start-up found: `fresh` (nothing done), `built` (first build) or `refreshed`."""

    state: Literal["fresh", "built", "refreshed"]
    fingerprint: str
    documents: int
    report: IngestReport
    seconds: float


def index_fingerprint(
    settings: Settings, embedder: DocumentEmbedder, directory: Path = KNOWLEDGE_DIR
) -> str:
    """sha256 of everything that makes a built index valid."""
    parts = (
        f"format={_STATE_FORMAT}",
        f"knowledge={knowledge_fingerprint(directory)}",
        f"model={embedder.fingerprint}",
        f"passages={PASSAGE_SCHEME}",
        f"store={store_identity(settings)}",
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def read_index_state(data_dir: Path) -> dict[str, object]:
    """The last build record, or {} when there is none or it is unreadable."""
    try:
        state = json.loads((data_dir / INDEX_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


async def ensure_knowledge_index(
    settings: Settings,
    store: VectorStore,
    embedder: DocumentEmbedder,
    *,
    directory: Path = KNOWLEDGE_DIR,
    progress: bool = False,
) -> IndexStatus:
    """Make the knowledge namespace match the shipped knowledge base; cheap when it already does.

    Raises KnowledgeFormatError for a broken knowledge file and BackendUnavailable when the
    store cannot be reached (start-up decides whether to serve degraded).
    """
    started = time.perf_counter()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = index_fingerprint(settings, embedder, directory)
    if await _is_fresh(settings.data_dir, fingerprint, store, embedder):
        return IndexStatus("fresh", fingerprint, _count(settings.data_dir), IngestReport(),
                           time.perf_counter() - started)
    # Several workers may start at once: one builds, the others wait and then find it fresh.
    async with build_lock(settings.data_dir):
        previous = read_index_state(settings.data_dir)
        if await _is_fresh(settings.data_dir, fingerprint, store, embedder):
            return IndexStatus("fresh", fingerprint, _count(settings.data_dir), IngestReport(),
                               time.perf_counter() - started)
        documents = load_knowledge(directory)
        logger.info("building the knowledge index: %d entries", len(documents))
        report = await ingest_documents(documents, store, embedder, progress=progress)
        current = {doc.id for doc in documents}
        previous_ids = previous.get("documents")
        if isinstance(previous_ids, list):
            gone = sorted(str(i) for i in previous_ids if str(i) not in current)
            if gone:
                await remove_documents(store, embedder, gone)
        await flush_vector_store(store)
        _write_state(settings.data_dir, fingerprint, sorted(current))
    state: Literal["built", "refreshed"] = "refreshed" if previous else "built"
    seconds = time.perf_counter() - started
    logger.info("knowledge index %s in %.1fs: %s", state, seconds, report)
    return IndexStatus(state, fingerprint, len(documents), report, seconds)


async def _is_fresh(
    data_dir: Path, fingerprint: str, store: VectorStore, embedder: DocumentEmbedder
) -> bool:
    if read_index_state(data_dir).get("fingerprint") != fingerprint:
        return False
    # The record says built; make sure the vectors were not deleted behind its back.
    probe = np.zeros(embedder.dimension, dtype=np.float32)
    probe[0] = 1.0
    return bool(await store.query(KNOWLEDGE_NAMESPACE, probe, 1))


def _count(data_dir: Path) -> int:
    documents = read_index_state(data_dir).get("documents")
    return len(documents) if isinstance(documents, list) else 0


def _write_state(data_dir: Path, fingerprint: str, documents: list[str]) -> None:
    state = {
        "format": _STATE_FORMAT,
        "fingerprint": fingerprint,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "documents": documents,
    }
    text = json.dumps(state, indent=1).encode()
    replace_atomically(data_dir / INDEX_FILE, lambda handle: handle.write(text), temp_prefix=".index-")


@contextlib.asynccontextmanager
async def build_lock(data_dir: Path) -> AsyncIterator[None]:
    """Held while one process (re)embeds into `data_dir`'s store; other workers wait for it."""
    handle = (data_dir / _LOCK_FILE).open("a")
    try:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
