"""The public free-exercise-db file becomes `fedb-` knowledge documents; bad records are refused."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from spotter.retrieval.catalogue_descriptions import catalogue_descriptions
from spotter.retrieval.free_exercise_db import (
    CATALOGUE,
    document_from_record,
    lacking_descriptions,
    load_free_exercise_db,
)
from spotter.retrieval.knowledge_base import KnowledgeFormatError
from tests.support.index_cache import FREE_EXERCISE_DB

# Real outside data, read in place (never copied into the project).

RECORD = {
    "id": "Barbell_Squat",
    "name": "Barbell Squat",
    "force": "push",
    "level": "beginner",
    "mechanic": "compound",
    "equipment": "barbell",
    "primaryMuscles": ["quadriceps"],
    "secondaryMuscles": ["calves", "glutes"],
    "instructions": ["Set the bar on a rack.", "Squat down."],
    "category": "strength",
    "images": ["Barbell_Squat/0.jpg"],
}


def test_the_public_file_reads_whole() -> None:
    documents = load_free_exercise_db(FREE_EXERCISE_DB)
    raw = json.loads(FREE_EXERCISE_DB.read_text(encoding="utf-8"))
    assert len(documents) == len(raw) == 873
    assert [d.id for d in documents] == [f"fedb-{r['id']}" for r in raw]
    assert all(d.kind == "exercise" and d.title for d in documents)


def test_text_names_muscles_equipment_level_category_and_steps() -> None:
    doc = document_from_record(RECORD)
    assert doc.id == "fedb-Barbell_Squat"
    assert doc.title == "Barbell Squat"
    # Plain words open the record (they are what gets embedded); details follow the steps.
    # The project's everyday description of the record follows (catalogue_descriptions).
    described = catalogue_descriptions(CATALOGUE)["Barbell_Squat"].lines("Barbell Squat")
    assert described
    assert doc.text.splitlines() == [
        "# Barbell Squat",
        "Works the quadriceps (front of the thighs).",
        "Equipment: barbell.",
        *described,
        "",
        "1. Set the bar on a rack.",
        "2. Squat down.",
        "",
        "Secondary muscles: calves, glutes.",
        "Type: beginner, compound, push movement, strength.",
    ]
    assert doc.metadata == {
        "muscles": ["quadriceps", "calves", "glutes"],
        "equipment": ["barbell"],
        "level": "beginner",
        "tags": ["strength"],
    }


def test_a_description_written_for_another_name_is_left_out() -> None:
    # A later catalogue release that renames a record must not carry the old record's words.
    described = catalogue_descriptions(CATALOGUE)["Barbell_Squat"]
    renamed = document_from_record({**RECORD, "name": "Barbell Box Squat"})
    assert described.plain not in renamed.text
    assert "Also called" not in renamed.text
    assert described.plain in document_from_record(RECORD).text


def test_records_stored_without_their_description_are_found() -> None:
    today = load_free_exercise_db(FREE_EXERCISE_DB)
    assert lacking_descriptions(today) == []
    described = document_from_record(RECORD)
    earlier = dataclasses.replace(described, text="# Barbell Squat\nWorks the quadriceps.")
    renamed = document_from_record({**RECORD, "name": "Barbell Box Squat"})
    unknown = document_from_record({**RECORD, "id": "Not_In_The_Catalogue"})
    assert lacking_descriptions([described, earlier, renamed, unknown]) == ["fedb-Barbell_Squat"]


def test_null_fields_are_left_out() -> None:
    doc = document_from_record({**RECORD, "force": None, "mechanic": None, "equipment": None})
    assert "Equipment" not in doc.text
    assert "Type: beginner, strength." in doc.text
    assert "equipment" not in doc.metadata


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "has space"}, "id must match"),
        ({"id": 7}, "id must match"),
        ({"name": ""}, "name must be"),
        ({"primaryMuscles": "quadriceps"}, "primaryMuscles must be a list"),
        ({"level": 3}, "level must be a string"),
    ],
)
def test_bad_records_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(KnowledgeFormatError, match=message):
        document_from_record({**RECORD, **change})


def test_bad_files_are_refused(tmp_path: Path) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text("{", encoding="utf-8")
    with pytest.raises(KnowledgeFormatError, match="not a readable JSON file"):
        load_free_exercise_db(not_json)
    not_list = tmp_path / "object.json"
    not_list.write_text("{}", encoding="utf-8")
    with pytest.raises(KnowledgeFormatError, match="JSON array"):
        load_free_exercise_db(not_list)
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps([RECORD, RECORD]), encoding="utf-8")
    with pytest.raises(KnowledgeFormatError, match="duplicate record id"):
        load_free_exercise_db(twice)
