"""One knowledge index for the whole test session, so nothing embeds the knowledge base twice.

Register with `pytest_plugins = ["tests.retrieval_fixtures"]` in `service/tests/conftest.py`.
`knowledge_index` builds the index once (in a temporary data directory, with the real model);
tests that start a server call `knowledge_index.copy_into(data_dir)` first, and the server's
start-up check then finds the index fresh instead of re-embedding.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.index import INDEX_FILE, IndexStatus, ensure_knowledge_index
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.stores import VECTORS_DIR, local_vectors_dir
from spotter.settings import DEVELOPMENT_SECRET, Settings

__all__ = ["KnowledgeIndex", "knowledge_index"]


@dataclass(frozen=True, slots=True)
class KnowledgeIndex:
    """The session's built index: `data_dir` holds `vectors/` and `index.json`."""

    data_dir: Path
    embedder: Embedder
    status: IndexStatus

    def settings(self) -> Settings:
        """Development settings pointing at the index's data directory."""
        return Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=self.data_dir)

    def open_store(self) -> LocalVectorStore:
        """A store on the shared index; treat it as read-only (copy it to add workouts)."""
        return LocalVectorStore(local_vectors_dir(self.data_dir))

    def copy_into(self, data_dir: Path) -> Path:
        """Copy the index into `data_dir` (a server's SPOTTER_DATA_DIR); returns `data_dir`."""
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.data_dir / VECTORS_DIR, data_dir / VECTORS_DIR, dirs_exist_ok=True)
        shutil.copy2(self.data_dir / INDEX_FILE, data_dir / INDEX_FILE)
        return data_dir


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def knowledge_index(built_index: Path) -> AsyncIterator[KnowledgeIndex]:
    """The shipped knowledge base embedded with the real model: the session's one `built_index`."""
    settings = Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=built_index)
    embedder = Embedder()
    try:
        status = await ensure_knowledge_index(
            settings, LocalVectorStore(local_vectors_dir(built_index)), embedder
        )
        assert status.state == "fresh", status  # built once by `built_index`, never rebuilt here
        yield KnowledgeIndex(built_index, embedder, status)
    finally:
        embedder.close()
