"""Ingestion is idempotent by stable ids: re-running updates or skips, never duplicates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.ingest import IngestReport, ingest, remove_documents
from spotter.retrieval.ingest_command import run_ingest_command
from spotter.retrieval.knowledge_base import KnowledgeFormatError
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.pinecone_store import PineconeVectorStore
from spotter.retrieval.stores import local_vectors_dir
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorMatch, VectorStore
from spotter.settings import DEVELOPMENT_SECRET, Settings
from tests.support.pinecone_server import running_pinecone_server

LONG_BODY = "\n\n".join(
    f"## Part {n}\n" + " ".join(f"point{n}" for _ in range(100)) for n in range(3)
)


def entry(doc_id: str, title: str, body: str, kind: str = "guide") -> str:
    return f"---\nid: {doc_id}\ntitle: {title}\nkind: {kind}\ntags: [test]\n---\n{body}\n"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    (root / "guides").mkdir(parents=True)
    (root / "exercises").mkdir()
    (root / "guides/guide-sleep.md").write_text(
        entry("guide-sleep", "Sleep and recovery", "Sleep seven to nine hours a night."))
    (root / "guides/guide-long.md").write_text(entry("guide-long", "A long guide", LONG_BODY))
    (root / "exercises/ex-plank.md").write_text(entry(
        "ex-plank", "Front plank", "## How to do it\nHold a straight line on your forearms.",
        kind="exercise"))
    return root


@pytest_asyncio.fixture(loop_scope="session")
async def embedder() -> AsyncIterator[Embedder]:
    model = Embedder()
    yield model
    model.close()


async def stored(store: VectorStore) -> list[VectorMatch]:
    probe = np.ones(384, dtype=np.float32)
    return await store.query(KNOWLEDGE_NAMESPACE, probe, 1_000)


async def test_reingesting_skips_unchanged_entries_and_never_duplicates(
    knowledge: Path, tmp_path: Path, embedder: Embedder
) -> None:
    store = LocalVectorStore(tmp_path / "vectors")
    first = await ingest(knowledge, "spotter", store, embedder)
    assert first == IngestReport(added=3, updated=0, unchanged=0)
    records = await stored(store)
    ids = sorted(m.id for m in records)
    assert "guide-sleep#0" in ids and "ex-plank#0" in ids
    assert len([i for i in ids if i.startswith("guide-long#")]) >= 3

    second = await ingest(knowledge, "spotter", store, embedder)
    assert second == IngestReport(added=0, updated=0, unchanged=3)
    assert sorted(m.id for m in await stored(store)) == ids

    sleep = next(m for m in records if m.id == "guide-sleep#0")
    assert sleep.metadata["title"] == "Sleep and recovery"
    assert sleep.metadata["source"] == "knowledge"
    assert sleep.metadata["kind"] == "guide"
    assert sleep.metadata["doc_id"] == "guide-sleep"
    assert sleep.metadata["text"] == "Sleep seven to nine hours a night."
    assert sleep.metadata["tags"] == ["test"]


async def test_changed_entries_are_re_embedded_and_lost_passages_deleted(
    knowledge: Path, tmp_path: Path, embedder: Embedder
) -> None:
    store = LocalVectorStore(tmp_path / "vectors")
    await ingest(knowledge, "spotter", store, embedder)
    (knowledge / "guides/guide-long.md").write_text(entry("guide-long", "A long guide", "Short now."))
    report = await ingest(knowledge, "spotter", store, embedder)
    assert report == IngestReport(added=0, updated=1, unchanged=2)
    ids = sorted(m.id for m in await stored(store))
    assert ids == ["ex-plank#0", "guide-long#0", "guide-sleep#0"]
    long_guide = next(m for m in await stored(store) if m.id == "guide-long#0")
    assert long_guide.metadata["text"] == "Short now."

    assert await remove_documents(store, embedder, ["guide-long", "unknown"]) == 1
    assert sorted(m.id for m in await stored(store)) == ["ex-plank#0", "guide-sleep#0"]


async def test_a_single_markdown_file_and_the_free_exercise_db_format(
    knowledge: Path, tmp_path: Path, embedder: Embedder
) -> None:
    store = LocalVectorStore(tmp_path / "vectors")
    report = await ingest(knowledge / "exercises/ex-plank.md", "spotter", store, embedder)
    assert report.added == 1
    catalogue = tmp_path / "exercises.json"
    records = [
        {"id": "Plank", "name": "Plank", "force": "static", "level": "beginner",
         "mechanic": None, "equipment": "body only", "primaryMuscles": ["abdominals"],
         "secondaryMuscles": [], "instructions": ["Hold it."], "category": "strength",
         "images": []},
    ]  # fmt: skip
    catalogue.write_text(json.dumps(records))
    assert await ingest(catalogue, "free-exercise-db", store, embedder) == IngestReport(1, 0, 0)
    assert await ingest(catalogue, "free-exercise-db", store, embedder) == IngestReport(0, 0, 1)
    assert sorted(m.id for m in await stored(store)) == ["ex-plank#0", "fedb-Plank#0"]


async def test_unusable_input_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    store = LocalVectorStore(tmp_path / "vectors")
    with pytest.raises(KnowledgeFormatError, match="unknown format"):
        await ingest(tmp_path, "csv", store, embedder)
    with pytest.raises(KnowledgeFormatError, match=r"no \.md entries"):
        await ingest(tmp_path, "spotter", store, embedder)
    with pytest.raises(KnowledgeFormatError, match="no such file"):
        await ingest(tmp_path / "missing", "spotter", store, embedder)


def test_the_ingest_command_writes_the_configured_store_and_prints_a_summary(
    knowledge: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=tmp_path)
    assert run_ingest_command(settings, knowledge, "spotter") == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"ingested 3 entries from {knowledge}: 3 added, 0 updated, 0 unchanged"
    assert "ingest" in err  # the progress bar goes to stderr
    assert run_ingest_command(settings, knowledge, "spotter") == 0
    assert "0 added, 0 updated, 3 unchanged" in capsys.readouterr().out
    # Flushed to disk: a fresh store on the same folder sees the records.
    assert local_vectors_dir(tmp_path).is_dir()
    assert run_ingest_command(settings, tmp_path / "missing.json", "free-exercise-db") == 2
    assert "spotter ingest:" in capsys.readouterr().err


async def test_the_ingest_command_output_is_persisted(knowledge: Path, tmp_path: Path) -> None:
    settings = Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=tmp_path)
    assert await asyncio.to_thread(run_ingest_command, settings, knowledge, "spotter") == 0
    reopened = LocalVectorStore(local_vectors_dir(tmp_path))
    assert len({m.metadata["doc_id"] for m in await stored(reopened)}) == 3


async def test_ingestion_is_idempotent_against_pinecone_too(
    knowledge: Path, embedder: Embedder
) -> None:
    with running_pinecone_server(api_key="test-key", dimension=384) as server:
        store = PineconeVectorStore("test-key", server.url, timeout_seconds=5)
        try:
            assert await ingest(knowledge, "spotter", store, embedder) == IngestReport(3, 0, 0)
            assert await ingest(knowledge, "spotter", store, embedder) == IngestReport(0, 0, 3)
            shorter = entry("guide-long", "A long guide", "Now short.")
            (knowledge / "guides/guide-long.md").write_text(shorter)
            assert await ingest(knowledge, "spotter", store, embedder) == IngestReport(0, 1, 2)
            ids = sorted(m.id for m in await stored(store))
            assert ids == ["ex-plank#0", "guide-long#0", "guide-sleep#0"]
        finally:
            await store.close()
