"""The shipped everyday descriptions cover the public catalogue exactly; bad files are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spotter.retrieval.catalogue_descriptions import (
    DESCRIPTIONS_FILE,
    RecordDescription,
    load_descriptions,
)
from spotter.retrieval.free_exercise_db import CATALOGUE
from spotter.retrieval.knowledge_base import KnowledgeFormatError
from spotter.retrieval.lexical import terms
from tests.support.index_cache import FREE_EXERCISE_DB

# Real outside data, read in place (never copied into the project).


def test_every_public_record_is_described_once_under_its_own_name() -> None:
    records = json.loads(FREE_EXERCISE_DB.read_text(encoding="utf-8"))
    described = load_descriptions(DESCRIPTIONS_FILE)[CATALOGUE]
    assert list(described) == [r["id"] for r in records]
    assert {i: d.name for i, d in described.items()} == {r["id"]: r["name"].strip() for r in records}


def test_descriptions_are_plain_sentences_not_the_steps_again() -> None:
    records = {r["id"]: r for r in json.loads(FREE_EXERCISE_DB.read_text(encoding="utf-8"))}
    for record_id, described in load_descriptions(DESCRIPTIONS_FILE)[CATALOGUE].items():
        assert 8 <= len(described.plain.split()) <= 70, record_id
        assert len(described.aliases) <= 4, record_id
        steps = " ".join(records[record_id]["instructions"])
        assert described.plain not in steps, f"{record_id}: copies its instructions"
        # Written in other words than the name, or it would add nothing.
        assert set(terms(described.plain)) - set(terms(described.name)), record_id


def test_lines_open_with_the_aliases_and_only_for_the_named_record() -> None:
    described = RecordDescription(name="Face Pull", aliases=("rope face pull",), plain="Rope to the face.")
    assert described.lines("Face Pull") == ["Also called: rope face pull.", "Rope to the face."]
    assert described.lines(" Face Pull ") == described.lines("Face Pull")
    assert described.lines("Face Pull - Kneeling") == []
    assert RecordDescription("Plank", (), "Hold a straight body.").lines("Plank") == [
        "Hold a straight body."
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("- just a list\n", "mapping of lists"),
        ("free-exercise-db:\n  - not a mapping\n", "must be a mapping"),
        ("free-exercise-db:\n  - {id: A, name: A}\n", "plain must be a non-empty string"),
        ("free-exercise-db:\n  - {id: '', name: A, plain: p}\n", "id must be a non-empty"),
        ("free-exercise-db:\n  - {id: A, name: A, plain: p, aliases: x}\n", "aliases must be a list"),
        (
            "free-exercise-db:\n  - {id: A, name: A, plain: p}\n  - {id: A, name: B, plain: q}\n",
            "described twice",
        ),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "descriptions.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(KnowledgeFormatError, match=message):
        load_descriptions(path)
