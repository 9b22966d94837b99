"""The everyday words Spotter ships for the records of outside exercise catalogues.

free-exercise-db names its 873 records as a catalogue does ("Barbell Full Squat") and explains
them in a coach's anatomical terms, while people ask about "the squat with the bar on my back"
or "the pulley machine". The project wrote, for every record, the other names gyms use for it
and one or two sentences in plain words (`knowledge/catalogue_descriptions.yaml`). Ingestion
adds them to the record's text, so the embedding and BM25 both see the words people use
(docs/retrieval.md measures what that buys).

A description applies only while the record still has the name it was written for: a later
catalogue release that renames or reuses an id is ingested without it, not with stale words.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from spotter.retrieval.knowledge_base import KNOWLEDGE_DIR, KnowledgeFormatError, read_yaml_lists

__all__ = [
    "DESCRIPTIONS_FILE",
    "RecordDescription",
    "catalogue_descriptions",
    "load_descriptions",
]

DESCRIPTIONS_FILE = KNOWLEDGE_DIR / "catalogue_descriptions.yaml"


@dataclass(frozen=True, slots=True)
class RecordDescription:
    """What people call one catalogue record, and how they would describe doing it."""

    name: str
    aliases: tuple[str, ...]
    plain: str

    def lines(self, record_name: str) -> list[str]:
        """The description as lines of a record's opening; none if it was written for a record
        of another name."""
        if record_name.strip() != self.name:
            return []
        also = [f"Also called: {', '.join(self.aliases)}."] if self.aliases else []
        return [*also, self.plain]


def load_descriptions(path: Path) -> dict[str, dict[str, RecordDescription]]:
    """`catalogue -> record id -> description` from a descriptions file; raises
    KnowledgeFormatError when it is malformed (the shipped file is checked by the tests)."""
    catalogues: dict[str, dict[str, RecordDescription]] = {}
    for catalogue, items in read_yaml_lists(path, "catalogue -> [record descriptions]").items():
        described: dict[str, RecordDescription] = {}
        for index, item in enumerate(items):
            where = f"{path}: {catalogue} item {index}"
            record_id, description = _description(item, where)
            if record_id in described:
                raise KnowledgeFormatError(f"{where}: record {record_id!r} is described twice")
            described[record_id] = description
        catalogues[catalogue] = described
    return catalogues


def _description(item: object, where: str) -> tuple[str, RecordDescription]:
    if not isinstance(item, dict):
        raise KnowledgeFormatError(f"{where}: must be a mapping with id, name, aliases, plain")
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise KnowledgeFormatError(f"{where}: aliases must be a list of non-empty strings")
    description = RecordDescription(
        name=_text(item, "name", where),
        aliases=tuple(a.strip() for a in aliases),
        plain=_text(item, "plain", where),
    )
    return _text(item, "id", where), description


def _text(item: Mapping[str, object], field: str, where: str) -> str:
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeFormatError(f"{where}: {field} must be a non-empty string")
    return value.strip()


@functools.cache
def catalogue_descriptions(catalogue: str) -> Mapping[str, RecordDescription]:
    """The shipped descriptions of one catalogue's records (empty if it has none), read once
    per process on first use."""
    return load_descriptions(DESCRIPTIONS_FILE).get(catalogue, {})
