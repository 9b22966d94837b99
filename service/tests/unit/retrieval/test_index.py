"""Start-up builds the knowledge index once, refreshes it when stale, and is otherwise a no-op."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.index import (
    INDEX_FILE,
    ensure_knowledge_index,
    index_fingerprint,
    open_vector_store,
    read_index_state,
)
from spotter.retrieval.ingest import IngestReport
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.stores import local_vectors_dir
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorMatch
from spotter.settings import DEVELOPMENT_SECRET, Settings
from tests.retrieval_fixtures import KnowledgeIndex


def entry(doc_id: str, body: str) -> str:
    return f"---\nid: {doc_id}\ntitle: {doc_id}\nkind: guide\n---\n{body}\n"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    root.mkdir()
    for name, body in [("guide-a", "Sleep well."), ("guide-b", "Eat protein."),
                       ("guide-c", "Walk daily.")]:  # fmt: skip
        (root / f"{name}.md").write_text(entry(name, body))
    return root


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=tmp_path / "data")


@pytest_asyncio.fixture(loop_scope="session")
async def embedder() -> AsyncIterator[Embedder]:
    model = Embedder()
    yield model
    model.close()


async def doc_ids(store: LocalVectorStore) -> set[str]:
    matches: list[VectorMatch] = await store.query(
        KNOWLEDGE_NAMESPACE, np.ones(384, dtype=np.float32), 1000
    )
    return {str(m.metadata["doc_id"]) for m in matches}


async def test_first_start_builds_then_later_starts_are_no_ops(
    settings: Settings, knowledge: Path, embedder: Embedder
) -> None:
    store = open_vector_store(settings)
    assert isinstance(store, LocalVectorStore)
    built = await ensure_knowledge_index(settings, store, embedder, directory=knowledge)
    assert built.state == "built"
    assert built.report == IngestReport(added=3)
    assert built.documents == 3
    state = read_index_state(settings.data_dir)
    assert state["fingerprint"] == built.fingerprint
    assert state["documents"] == ["guide-a", "guide-b", "guide-c"]
    assert not list(settings.data_dir.glob(".index-*"))  # the atomic write left no temp file

    # A new process (new store object, same folder) finds the index fresh in milliseconds.
    again = await ensure_knowledge_index(
        settings, open_vector_store(settings), embedder, directory=knowledge
    )
    assert again.state == "fresh"
    assert again.report == IngestReport()
    assert again.seconds < 0.5
    assert await doc_ids(LocalVectorStore(local_vectors_dir(settings.data_dir))) == {
        "guide-a", "guide-b", "guide-c"}  # fmt: skip


async def test_changed_and_removed_files_refresh_the_index(
    settings: Settings, knowledge: Path, embedder: Embedder
) -> None:
    store = open_vector_store(settings)
    first = await ensure_knowledge_index(settings, store, embedder, directory=knowledge)
    (knowledge / "guide-a.md").write_text(entry("guide-a", "Sleep eight hours."))
    (knowledge / "guide-c.md").unlink()
    refreshed = await ensure_knowledge_index(settings, store, embedder, directory=knowledge)
    assert refreshed.state == "refreshed"
    assert refreshed.fingerprint != first.fingerprint
    assert refreshed.report == IngestReport(added=0, updated=1, unchanged=1)
    assert await doc_ids(LocalVectorStore(local_vectors_dir(settings.data_dir))) == {
        "guide-a", "guide-b"}  # fmt: skip


async def test_lost_vectors_or_a_broken_record_trigger_a_rebuild(
    settings: Settings, knowledge: Path, embedder: Embedder
) -> None:
    await ensure_knowledge_index(settings, open_vector_store(settings), embedder,
                                 directory=knowledge)  # fmt: skip
    shutil.rmtree(local_vectors_dir(settings.data_dir))
    rebuilt = await ensure_knowledge_index(
        settings, open_vector_store(settings), embedder, directory=knowledge
    )
    assert rebuilt.state == "refreshed"
    assert rebuilt.report.added == 3
    (settings.data_dir / INDEX_FILE).write_text("{not json")
    again = await ensure_knowledge_index(
        settings, open_vector_store(settings), embedder, directory=knowledge
    )
    assert again.state == "built"  # no readable record: treated as a first build
    assert again.report == IngestReport(unchanged=3)  # ...which embeds nothing
    assert json.loads((settings.data_dir / INDEX_FILE).read_text())["fingerprint"]


def test_the_fingerprint_covers_files_model_and_store(
    settings: Settings, knowledge: Path, embedder: Embedder
) -> None:
    base = index_fingerprint(settings, embedder, knowledge)
    assert index_fingerprint(settings, embedder, knowledge) == base
    pinecone = replace(settings, vector_store="pinecone", pinecone_api_key="k",
                       pinecone_host="http://127.0.0.1:1")  # fmt: skip
    assert index_fingerprint(pinecone, embedder, knowledge) != base
    (knowledge / "guide-b.md").write_text(entry("guide-b", "Eat more protein."))
    assert index_fingerprint(settings, embedder, knowledge) != base


async def test_the_session_index_copies_into_a_servers_data_dir_as_fresh(
    knowledge_index: KnowledgeIndex, tmp_path: Path
) -> None:
    assert knowledge_index.status.state == "fresh"  # built once per session by `built_index`
    assert knowledge_index.status.documents >= 60
    data_dir = knowledge_index.copy_into(tmp_path / "server-data")
    settings = Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=data_dir)
    status = await ensure_knowledge_index(
        settings, open_vector_store(settings), knowledge_index.embedder
    )
    assert status.state == "fresh"
    assert status.report == IngestReport()  # nothing embedded again
