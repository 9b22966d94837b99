"""Start-up re-embeds an ingested source whose vectors another model made, once, from the
documents its record holds; a store that cannot be written leaves it as it was. It names a
catalogue ingested before the descriptions shipped for its records."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import pytest_asyncio

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.free_exercise_db import load_free_exercise_db
from spotter.retrieval.ingest import ingest_documents
from spotter.retrieval.ingested_sources import (
    embedding_scheme,
    load_ingested_sources,
    source_record_path,
    write_ingested_source,
)
from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.source_refresh import refresh_ingested_sources
from spotter.retrieval.stores import local_vectors_dir
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorStore
from tests.support.index_cache import FREE_EXERCISE_DB
from tests.unit.retrieval.test_query_batching import CountingEmbedder

DOCUMENTS = [
    KnowledgeDocument(f"fedb-{name.replace(' ', '_')}", name, "exercise", f"# {name}\n{text}", {})
    for name, text in (
        ("Barbell Squat", "Works the quadriceps. Sit down between your hips with a bar on your back."),
        ("Plank", "Works the abdominals. Hold your body straight on your forearms and toes."),
        ("Farmers Walk", "Works the forearms. Walk holding a heavy weight in each hand."),
        ("Treadmill Jogging", "Cardio. Jog at an easy pace on the moving belt."),
    )
]  # fmt: skip


class OlderModel(Embedder):
    """Stands in for the model of an earlier release: same size, incompatible vectors."""

    @property
    def fingerprint(self) -> str:
        return "an-older-model"

    async def embed_async(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> npt.NDArray[np.float32]:
        return (await super().embed_async(texts, batch_size))[:, ::-1].copy()


@pytest_asyncio.fixture(loop_scope="session")
async def embedder() -> AsyncIterator[CountingEmbedder]:
    model = CountingEmbedder()
    yield model
    model.close()


async def best_match(store: VectorStore, embedder: Embedder, text: str) -> str:
    vector = (await embedder.embed_async([text]))[0]
    (match,) = await store.query(KNOWLEDGE_NAMESPACE, vector, 1)
    return str(match.metadata["doc_id"])


async def ingested_by_older_model(data_dir: Path) -> LocalVectorStore:
    store = LocalVectorStore(local_vectors_dir(data_dir))
    older = OlderModel()
    try:
        await ingest_documents(DOCUMENTS, store, older, lead_only=True)
    finally:
        older.close()
    await store.flush()
    write_ingested_source(data_dir, data_dir / "exercises.json", "free-exercise-db", DOCUMENTS,
                          embedding=embedding_scheme("an-older-model"))  # fmt: skip
    return store


async def test_vectors_an_older_model_made_are_reembedded_once(
    tmp_path: Path, embedder: CountingEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    store = await ingested_by_older_model(tmp_path)
    questions = [doc.text.splitlines()[1] for doc in DOCUMENTS]
    before = [await best_match(store, embedder, q) for q in questions]
    assert before != [doc.id for doc in DOCUMENTS]  # the old vectors do not match the model

    with caplog.at_level(logging.WARNING, logger="spotter.retrieval.source_refresh"):
        (source,) = await refresh_ingested_sources(tmp_path, store, embedder)
    assert "re-embedding ingested source free-exercise-db-exercises" in caplog.text
    assert "made with an-older-model" in caplog.text
    current = embedding_scheme(embedder.fingerprint)
    assert source.embedding == current and source.documents == tuple(DOCUMENTS)
    assert load_ingested_sources(tmp_path) == [source]  # the record says so too
    assert [await best_match(store, embedder, q) for q in questions] == [d.id for d in DOCUMENTS]

    embedder.passes.clear()
    assert await refresh_ingested_sources(tmp_path, store, embedder) == [source]
    assert embedder.passes == []  # fresh: nothing embedded, nothing rewritten


async def test_a_record_from_before_the_embedding_was_kept_counts_as_stale(
    tmp_path: Path, embedder: CountingEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    store = await ingested_by_older_model(tmp_path)
    (source,) = load_ingested_sources(tmp_path)
    path = source_record_path(tmp_path, source.key)
    raw = json.loads(path.read_text())
    del raw["embedding"]  # how an earlier release wrote it
    path.write_text(json.dumps(raw))
    assert load_ingested_sources(tmp_path)[0].embedding == ""

    with caplog.at_level(logging.WARNING, logger="spotter.retrieval.source_refresh"):
        (refreshed,) = await refresh_ingested_sources(tmp_path, store, embedder)
    assert "made with an unrecorded model" in caplog.text
    assert refreshed.embedding == embedding_scheme(embedder.fingerprint)


async def test_a_store_that_cannot_be_written_leaves_the_source_stale_and_start_up_going(
    tmp_path: Path, embedder: CountingEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    await ingested_by_older_model(tmp_path)
    vanished = tmp_path / "elsewhere"
    store = LocalVectorStore(vanished)
    vanished.rmdir()

    with caplog.at_level(logging.WARNING, logger="spotter.retrieval.source_refresh"):
        (source,) = await refresh_ingested_sources(tmp_path, store, embedder)
    assert "could not re-embed ingested source" in caplog.text
    assert "spotter ingest" in caplog.text
    assert source.embedding == embedding_scheme("an-older-model")
    assert load_ingested_sources(tmp_path)[0].embedding == source.embedding  # record untouched


async def test_a_catalogue_ingested_before_its_descriptions_is_named_at_start_up(
    tmp_path: Path, embedder: CountingEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    # DOCUMENTS hold no everyday descriptions, as an earlier release ingested them; the
    # descriptions are added to records read from the file, so start-up can only say so.
    store = LocalVectorStore(local_vectors_dir(tmp_path))
    current = embedding_scheme(embedder.fingerprint)
    write_ingested_source(tmp_path, tmp_path / "exercises.json", "free-exercise-db", DOCUMENTS,
                          embedding=current)  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="spotter.retrieval.source_refresh"):
        (source,) = await refresh_ingested_sources(tmp_path, store, embedder)
    assert "lack the everyday descriptions" in caplog.text
    assert "(first fedb-Barbell_Squat)" in caplog.text
    assert f"spotter ingest {tmp_path / 'exercises.json'} --format free-exercise-db" in caplog.text
    assert source.documents == tuple(DOCUMENTS)  # told, not touched
    assert embedder.passes == []

    # Ingested from the file by this release: nothing to say.
    caplog.clear()
    today = load_free_exercise_db(FREE_EXERCISE_DB)[:50]
    write_ingested_source(tmp_path, tmp_path / "exercises.json", "free-exercise-db", today,
                          embedding=current)  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="spotter.retrieval.source_refresh"):
        await refresh_ingested_sources(tmp_path, store, embedder)
    assert caplog.text == ""
