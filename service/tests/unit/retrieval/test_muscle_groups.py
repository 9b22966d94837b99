"""Every muscle the knowledge base names sorts into the catalogue's muscle groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotter.retrieval.knowledge_base import KnowledgeFormatError, load_knowledge
from spotter.retrieval.muscle_groups import (
    CATALOGUE_MUSCLES,
    MuscleGroups,
    default_muscle_groups,
    metadata_muscles,
)


def test_every_muscle_an_exercise_entry_names_has_groups() -> None:
    # Otherwise the bridge would judge that exercise by part of its muscles only.
    groups = default_muscle_groups()
    named = {m for doc in load_knowledge() if doc.kind == "exercise" for m in metadata_muscles(doc.metadata)}
    assert named, "the knowledge base names no muscles"
    assert sorted(m for m in named if not groups.knows(m)) == []


def test_names_map_to_their_groups_and_groups_to_themselves() -> None:
    groups = default_muscle_groups()
    assert groups.of(["Rhomboids", "hamstrings"]) == {"middle back", "hamstrings"}
    assert groups.of(["gluteus medius"]) == {"glutes", "abductors"}
    assert groups.of(["a muscle nobody mapped"]) == frozenset()
    assert all(groups.of([m]) == {m} for m in CATALOGUE_MUSCLES)


def test_a_mapping_to_an_unknown_group_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeFormatError, match="'pecs' must map"):
        MuscleGroups({"pecs": ["chest", "boobs"]})
    with pytest.raises(KnowledgeFormatError, match="must map"):
        MuscleGroups({"pecs": []})
    broken = tmp_path / "groups.yaml"
    broken.write_text("pecs: chest\n", encoding="utf-8")
    with pytest.raises(KnowledgeFormatError, match="mapping of lists"):
        MuscleGroups.from_file(broken)


def test_metadata_muscles_accepts_a_list_or_one_name() -> None:
    assert metadata_muscles({"muscles": ["Chest", " triceps "]}) == {"chest", "triceps"}
    assert metadata_muscles({"muscles": "Chest"}) == {"chest"}
    assert metadata_muscles({}) == frozenset()
