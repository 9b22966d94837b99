"""Loads Spotter's knowledge base: Markdown files with YAML front matter, shipped in the package.

The files under `spotter/knowledge/` are the source of truth for the shared knowledge namespace;
`knowledge_fingerprint()` tells start-up whether the built index still matches them.
The format is documented in `spotter/knowledge/README.md`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from spotter.retrieval.vector_store import MetadataValue

#: libyaml's safe loader when PyYAML was built with it, else the pure-Python one: both build only
#: plain data, and libyaml takes about a tenth of the time (the 188 entries' front matter 0.02 s
#: instead of 0.18 s at every start, the catalogue descriptions 0.08 s instead of 0.87 s).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(document: str) -> object:
    return yaml.load(document, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


__all__ = [
    "KNOWLEDGE_DIR",
    "KnowledgeDocument",
    "KnowledgeFormatError",
    "knowledge_files",
    "knowledge_fingerprint",
    "load_knowledge",
    "parse_knowledge_file",
    "read_yaml_lists",
]

#: The knowledge base shipped inside the package (`spotter/knowledge/{exercises,guides}/*.md`).
KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"

Kind = Literal["exercise", "guide"]
_KINDS: tuple[Kind, ...] = ("exercise", "guide")
_LIST_FIELDS = ("muscles", "equipment", "tags")


class KnowledgeFormatError(ValueError):
    """A knowledge file breaks the documented format; the message names the file."""


@dataclass(frozen=True, slots=True)
class KnowledgeDocument:
    """One knowledge entry: `id` is stable across re-ingestion, `text` is the Markdown body."""

    id: str
    title: str
    kind: str
    text: str
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """sha256 of everything that is embedded or stored, so unchanged entries can be skipped."""
        digest = hashlib.sha256()
        extra = repr(sorted(self.metadata.items()))
        for part in (self.id, self.title, self.kind, self.text, extra):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()


def knowledge_files(directory: Path = KNOWLEDGE_DIR) -> list[Path]:
    """Every `*.md` entry under `directory` (recursively, README excluded), in a stable order."""
    if directory.is_file():
        return [directory]
    return sorted(
        (p for p in directory.rglob("*.md") if p.name.lower() != "readme.md"),
        key=lambda p: p.relative_to(directory).as_posix(),
    )


def load_knowledge(directory: Path = KNOWLEDGE_DIR) -> list[KnowledgeDocument]:
    """Parse and validate every entry; raises KnowledgeFormatError (ids must be unique)."""
    documents = [parse_knowledge_file(path) for path in knowledge_files(directory)]
    _check_unique(documents)
    return documents


def knowledge_fingerprint(directory: Path = KNOWLEDGE_DIR) -> str:
    """sha256 over the sorted file names and contents: changes whenever any entry changes."""
    digest = hashlib.sha256()
    root = directory if directory.is_dir() else directory.parent
    for path in knowledge_files(directory):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def parse_knowledge_file(path: Path) -> KnowledgeDocument:
    """One entry from its front matter and body; the id must equal the file stem."""
    raw = path.read_text(encoding="utf-8")
    front, body = _split_front_matter(raw, path)
    try:
        meta = _load_yaml(front)
    except yaml.YAMLError as exc:
        raise KnowledgeFormatError(f"{path}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise KnowledgeFormatError(f"{path}: front matter must be a YAML mapping")
    doc_id, title, kind = meta.get("id"), meta.get("title"), meta.get("kind")
    if doc_id != path.stem:
        raise KnowledgeFormatError(f"{path}: id {doc_id!r} must equal the file name {path.stem!r}")
    if not isinstance(title, str) or not title.strip():
        raise KnowledgeFormatError(f"{path}: title must be a non-empty string")
    if kind not in _KINDS:
        raise KnowledgeFormatError(f"{path}: kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    if not body.strip():
        raise KnowledgeFormatError(f"{path}: the entry has no body")
    return KnowledgeDocument(
        id=path.stem, title=title.strip(), kind=kind, text=body.strip(), metadata=_extra(meta, path)
    )


def read_yaml_lists(path: Path, what: str) -> dict[str, list[object]]:
    """A YAML file holding a mapping of lists (the vocabulary, the muscle groups); raises
    KnowledgeFormatError naming the file and `what` it should hold otherwise."""
    try:
        raw = _load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeFormatError(f"{path}: not a readable {what}: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise KnowledgeFormatError(f"{path}: expected {what} as a mapping of lists")
    return {str(key): value for key, value in raw.items()}


def _split_front_matter(raw: str, path: Path) -> tuple[str, str]:
    lines = raw.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise KnowledgeFormatError(f"{path}: must start with a '---' front matter block")
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "".join(lines[1:end]), "".join(lines[end + 1 :])
    raise KnowledgeFormatError(f"{path}: front matter block is not closed with '---'")


def _extra(meta: Mapping[str, object], path: Path) -> dict[str, MetadataValue]:
    extra: dict[str, MetadataValue] = {}
    for name in _LIST_FIELDS:
        value = meta.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise KnowledgeFormatError(f"{path}: {name} must be a list of strings")
        extra[name] = [str(v) for v in value]
    level = meta.get("level")
    if level is not None:
        if not isinstance(level, str):
            raise KnowledgeFormatError(f"{path}: level must be a string")
        extra["level"] = level
    return extra


def _check_unique(documents: Iterable[KnowledgeDocument]) -> None:
    seen: set[str] = set()
    for doc in documents:
        if doc.id in seen:
            raise KnowledgeFormatError(f"duplicate knowledge id {doc.id!r}")
        seen.add(doc.id)
