"""Sorts the muscles the knowledge base names into an exercise catalogue's muscle groups.

The knowledge bridge points from a knowledge-base exercise at the catalogue records named like
it, and names alone make false friends: the knowledge base's "Air bike" is the fan bike, while
free-exercise-db's "Air Bike" is a bicycle crunch; "Barbell bench press" shares most of its
words with "Barbell Squat To A Bench". A record that works none of the exercise's muscle groups
is not the same exercise. Entries name muscles anatomically ("gluteus medius"), the catalogue in
17 groups; `knowledge/muscle_groups.yaml` maps one to the other.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from spotter.retrieval.knowledge_base import KNOWLEDGE_DIR, KnowledgeFormatError, read_yaml_lists
from spotter.retrieval.vector_store import MetadataValue

__all__ = [
    "CATALOGUE_MUSCLES",
    "MUSCLE_GROUPS_FILE",
    "MuscleGroups",
    "default_muscle_groups",
    "metadata_muscles",
]

#: free-exercise-db's muscle groups, as its records name them.
CATALOGUE_MUSCLES = frozenset({
    "abdominals", "abductors", "adductors", "biceps", "calves", "chest", "forearms", "glutes",
    "hamstrings", "lats", "lower back", "middle back", "neck", "quadriceps", "shoulders", "traps",
    "triceps",
})  # fmt: skip
MUSCLE_GROUPS_FILE = KNOWLEDGE_DIR / "muscle_groups.yaml"


def metadata_muscles(metadata: Mapping[str, MetadataValue]) -> frozenset[str]:
    """The lower-cased `muscles` of an entry's or a record's metadata (none if absent)."""
    value = metadata.get("muscles")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(m).strip().lower() for m in value if str(m).strip())


class MuscleGroups:
    """muscle name -> catalogue groups; a group's own name maps to itself."""

    def __init__(self, mapping: Mapping[str, Iterable[str]]) -> None:
        self._groups: dict[str, frozenset[str]] = {m: frozenset({m}) for m in CATALOGUE_MUSCLES}
        for muscle, groups in mapping.items():
            chosen = frozenset(groups)
            unknown = sorted(chosen - CATALOGUE_MUSCLES)
            if unknown or not chosen:
                raise KnowledgeFormatError(
                    f"muscle groups: {muscle!r} must map to one or more of "
                    f"{sorted(CATALOGUE_MUSCLES)}, not {unknown or 'nothing'}"
                )
            self._groups[muscle.strip().lower()] = chosen

    @classmethod
    def from_file(cls, path: Path) -> MuscleGroups:
        """Read a `muscle name: [groups]` YAML mapping."""
        raw = read_yaml_lists(path, "muscle -> [groups]")
        return cls({k: [str(g) for g in v] for k, v in raw.items()})

    def knows(self, muscle: str) -> bool:
        """Whether `muscle` is a group or is mapped to groups."""
        return muscle.strip().lower() in self._groups

    def of(self, muscles: Iterable[str]) -> frozenset[str]:
        """The groups `muscles` belong to; names the mapping does not know add none."""
        found: set[str] = set()
        for muscle in muscles:
            found |= self._groups.get(muscle.strip().lower(), frozenset())
        return frozenset(found)


@functools.cache
def default_muscle_groups() -> MuscleGroups:
    """The shipped mapping, read once per process on first use."""
    return MuscleGroups.from_file(MUSCLE_GROUPS_FILE)
