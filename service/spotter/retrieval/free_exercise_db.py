"""Reads the public free-exercise-db format (`exercises.json`) into knowledge documents.

Lets an operator bring a large outside exercise catalogue into the knowledge namespace with
`spotter ingest exercises.json --format free-exercise-db`. Record ids become `fedb-<id>`, so
they never collide with Spotter's own entries and re-ingesting replaces instead of duplicating.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from spotter.retrieval.catalogue_descriptions import catalogue_descriptions
from spotter.retrieval.knowledge_base import KnowledgeDocument, KnowledgeFormatError
from spotter.retrieval.vector_store import MetadataValue
from spotter.retrieval.vocabulary import default_vocabulary

__all__ = [
    "CATALOGUE",
    "ID_PREFIX",
    "document_from_record",
    "lacking_descriptions",
    "load_free_exercise_db",
]

#: This format's key in `knowledge/catalogue_descriptions.yaml`.
CATALOGUE = "free-exercise-db"
ID_PREFIX = "fedb-"
_ID = re.compile(r"^[0-9A-Za-z_-]+$")


def load_free_exercise_db(path: Path) -> list[KnowledgeDocument]:
    """Every record of a free-exercise-db JSON array; raises KnowledgeFormatError on a bad file."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KnowledgeFormatError(f"{path}: not a readable JSON file: {exc}") from None
    if not isinstance(records, list):
        raise KnowledgeFormatError(f"{path}: expected a JSON array of exercise records")
    documents: list[KnowledgeDocument] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise KnowledgeFormatError(f"{path}: record {index} is not an object")
        doc = document_from_record(record, where=f"{path}: record {index}")
        if doc.id in seen:
            raise KnowledgeFormatError(f"{path}: duplicate record id {doc.id!r}")
        seen.add(doc.id)
        documents.append(doc)
    return documents


def document_from_record(
    record: Mapping[str, object], *, where: str = "record"
) -> KnowledgeDocument:
    """One exercise: its text opens with the muscles (in plain words too, from the fitness
    vocabulary), the equipment and the project's everyday description of the record
    (`catalogue_descriptions`), then the steps, then secondary muscles, level and category."""
    record_id, name = record.get("id"), record.get("name")
    if not isinstance(record_id, str) or not _ID.match(record_id):
        raise KnowledgeFormatError(f"{where}: id must match [0-9A-Za-z_-]+, not {record_id!r}")
    if not isinstance(name, str) or not name.strip():
        raise KnowledgeFormatError(f"{where}: name must be a non-empty string")
    primary = _strings(record, "primaryMuscles", where)
    secondary = _strings(record, "secondaryMuscles", where)
    steps = _strings(record, "instructions", where)
    level = _optional(record, "level", where)
    equipment = _optional(record, "equipment", where)
    category = _optional(record, "category", where)
    mechanic = _optional(record, "mechanic", where)
    force = _optional(record, "force", where)

    vocabulary = default_vocabulary()
    lines = [f"# {name.strip()}"]
    opening = []  # plain words first: the lead is what gets embedded (passages.py)
    if primary:
        worked = ", ".join(_described(m, vocabulary.plain(m)) for m in primary)
        opening.append(f"Works the {worked}.")
    if equipment and equipment != "other":
        opening.append(f"Equipment: {vocabulary.plain(equipment) or equipment}.")
    described_as = catalogue_descriptions(CATALOGUE).get(record_id)
    if described_as is not None:
        opening.extend(described_as.lines(name))
    lines.extend(opening or [name.strip()])
    if steps:
        lines.append("")
        lines.extend(f"{n}. {step.strip()}" for n, step in enumerate(steps, start=1))
    details = []
    if secondary:
        details.append(f"Secondary muscles: {', '.join(secondary)}.")
    movement = f"{force} movement" if force else None
    described = [part for part in (level, mechanic, movement, category) if part]
    if described:
        details.append(f"Type: {', '.join(described)}.")
    if details:
        lines.extend(["", *details])

    metadata: dict[str, MetadataValue] = {"muscles": primary + secondary}
    if equipment:
        metadata["equipment"] = [equipment]
    if level:
        metadata["level"] = level
    if category:
        metadata["tags"] = [category]
    return KnowledgeDocument(
        id=ID_PREFIX + record_id,
        title=name.strip(),
        kind="exercise",
        text="\n".join(lines),
        metadata=metadata,
    )


def lacking_descriptions(documents: Iterable[KnowledgeDocument]) -> list[str]:
    """Ids of stored records whose text lacks the description shipped for them today: they
    were ingested before it was written or changed, and `spotter ingest` brings them up to
    date (the source file is needed for that, so start-up can only say so)."""
    described = catalogue_descriptions(CATALOGUE)
    lacking = []
    for doc in documents:
        description = described.get(doc.id.removeprefix(ID_PREFIX))
        if description and any(line not in doc.text for line in description.lines(doc.title)):
            lacking.append(doc.id)
    return lacking


def _described(term: str, plain: str | None) -> str:
    return f"{term} ({plain})" if plain and plain != term else term


def _strings(record: Mapping[str, object], name: str, where: str) -> list[str]:
    value = record.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeFormatError(f"{where}: {name} must be a list of strings")
    return [v for v in value if v.strip()]


def _optional(record: Mapping[str, object], name: str, where: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise KnowledgeFormatError(f"{where}: {name} must be a string or null")
    return value.strip() or None
