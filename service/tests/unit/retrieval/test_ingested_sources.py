"""The ingested-source record: written atomically per source, replaced on re-ingest, and a
damaged record is skipped at load (with a warning) but refused when read on its own."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.ingest_command import run_ingest_command
from spotter.retrieval.ingested_sources import (
    SOURCES_DIR,
    IngestedSourceError,
    load_ingested_sources,
    read_ingested_source,
    source_key,
    source_record_path,
    write_ingested_source,
)
from spotter.retrieval.knowledge_base import KnowledgeDocument
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.passages import PASSAGE_SCHEME
from spotter.retrieval.stores import local_vectors_dir
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorMatch
from spotter.settings import DEVELOPMENT_SECRET, Settings

SQUAT = KnowledgeDocument(
    "fedb-Squat", "Squat", "exercise", "# Squat\nWorks the quadriceps (front of the thighs).",
    {"muscles": ["quadriceps"], "equipment": ["barbell"], "level": "beginner"},
)  # fmt: skip
PLANK = KnowledgeDocument("fedb-Plank", "Plank", "exercise", "# Plank\nHold still.", {})


def record(doc_id: str, name: str) -> dict[str, object]:
    return {"id": doc_id, "name": name, "primaryMuscles": ["abdominals"],
            "instructions": [f"Do the {name.lower()}."], "equipment": "body only"}  # fmt: skip


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "input" / "exercises.json"
    path.parent.mkdir()
    path.write_text(json.dumps([record("Plank", "Plank"), record("Side_Plank", "Side Plank")]))
    return path


def test_a_record_round_trips_every_field(tmp_path: Path) -> None:
    written = write_ingested_source(tmp_path, Path("exercises.json"), "free-exercise-db",
                                    [SQUAT, PLANK])  # fmt: skip
    path = source_record_path(tmp_path, written.key)
    assert path.parent == tmp_path / SOURCES_DIR
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    read = read_ingested_source(path)
    assert read == written
    assert read.documents == (SQUAT, PLANK)
    assert read.is_catalogue and read.ids == {"fedb-Squat", "fedb-Plank"}
    assert read.path == str(Path("exercises.json").resolve())


def test_the_same_source_replaces_its_record_and_another_gets_its_own(tmp_path: Path) -> None:
    source = tmp_path / "a" / "exercises.json"
    write_ingested_source(tmp_path, source, "free-exercise-db", [SQUAT, PLANK])
    write_ingested_source(tmp_path, source, "free-exercise-db", [PLANK])
    assert [s.documents for s in load_ingested_sources(tmp_path)] == [(PLANK,)]
    other = tmp_path / "b" / "exercises.json"  # same file name elsewhere: a different source
    write_ingested_source(tmp_path, other, "free-exercise-db", [SQUAT])
    assert source_key(source, "free-exercise-db") != source_key(other, "free-exercise-db")
    assert sorted(len(s.documents) for s in load_ingested_sources(tmp_path)) == [1, 1]
    assert not source_key(source, "spotter").startswith("free-exercise-db")


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"format": 1}',
        b'{"format": 99, "key": "K", "path": "p", "source_format": "spotter", '
        b'"ingested_at": "", "documents": []}',
        b'{"format": 1, "key": "another", "path": "p", "source_format": "spotter", '
        b'"ingested_at": "", "documents": []}',
    ],
    ids=["not-json", "missing-fields", "unknown-format", "wrong-key"],
)
def test_a_damaged_record_is_refused_when_read_and_skipped_with_a_warning_when_loaded(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    write_ingested_source(tmp_path, Path("good.json"), "free-exercise-db", [SQUAT])
    broken = tmp_path / SOURCES_DIR / "K.json"
    broken.write_bytes(content)
    with pytest.raises(IngestedSourceError, match=r"K\.json"):
        read_ingested_source(broken)
    with caplog.at_level(logging.WARNING, logger="spotter.retrieval.ingested_sources"):
        sources = load_ingested_sources(tmp_path)
    assert [s.documents for s in sources] == [(SQUAT,)]
    assert "K.json" in caplog.text and "spotter ingest" in caplog.text


def test_duplicate_ids_inside_a_record_are_refused(tmp_path: Path) -> None:
    written = write_ingested_source(tmp_path, Path("x.json"), "free-exercise-db", [SQUAT, SQUAT])
    with pytest.raises(IngestedSourceError, match="not unique"):
        read_ingested_source(source_record_path(tmp_path, written.key))


def test_no_record_folder_means_no_sources(tmp_path: Path) -> None:
    assert load_ingested_sources(tmp_path / "empty") == []


def test_the_ingest_command_records_the_source_and_reingesting_drops_removed_entries(
    tmp_path: Path, catalogue: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=data_dir)
    assert run_ingest_command(settings, catalogue, "free-exercise-db") == 0
    (source,) = load_ingested_sources(data_dir)
    assert source.ids == {"fedb-Plank", "fedb-Side_Plank"} and source.is_catalogue
    assert source.path == str(catalogue.resolve())
    assert source.embedding == f"{Embedder().fingerprint}|{PASSAGE_SCHEME}"  # what made them

    catalogue.write_text(json.dumps([record("Plank", "Plank")]))  # Side_Plank is gone
    assert run_ingest_command(settings, catalogue, "free-exercise-db") == 0
    assert "1 unchanged, 1 removed" in capsys.readouterr().out
    (source,) = load_ingested_sources(data_dir)
    assert source.ids == {"fedb-Plank"}
    store = LocalVectorStore(local_vectors_dir(data_dir))
    stored = {m.metadata["doc_id"] for m in _everything(store)}
    assert stored == {"fedb-Plank"}


def test_the_ingest_command_replaces_an_unreadable_record(
    tmp_path: Path, catalogue: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(env="development", auth_secret=DEVELOPMENT_SECRET, data_dir=data_dir)
    path = source_record_path(data_dir, source_key(catalogue, "free-exercise-db"))
    path.parent.mkdir(parents=True)
    path.write_text("garbage")
    assert run_ingest_command(settings, catalogue, "free-exercise-db") == 0
    assert "replacing an unreadable record" in capsys.readouterr().err
    assert read_ingested_source(path).ids == {"fedb-Plank", "fedb-Side_Plank"}


def _everything(store: LocalVectorStore) -> list[VectorMatch]:
    probe = np.ones(384, dtype=np.float32)
    return asyncio.run(store.query(KNOWLEDGE_NAMESPACE, probe, 1_000))
