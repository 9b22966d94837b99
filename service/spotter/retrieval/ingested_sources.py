"""The record of what `spotter ingest` added to the knowledge namespace: one JSON file per source.

The vectors live in the configured store (local files or Pinecone), but ranking needs the
documents themselves: BM25 indexes their words and the knowledge bridge matches catalogue
record names. So `spotter ingest` leaves `<SPOTTER_DATA_DIR>/sources/<key>.json` beside the
index, and start-up reads every record back instead of the original file, which may be gone.

A source is keyed by its format and resolved path: ingesting the same file again replaces its
record. Files are written like the local store writes namespaces (temporary file, fsync,
`os.replace`, fsync of the folder), so a crash leaves the previous record whole. An unreadable
record is skipped with a warning by `load_ingested_sources` (the service still serves, and the
source's vectors are still found by similarity); `read_ingested_source` raises for it.

A record also says what its vectors were made with (`embedding_scheme`: the model's fingerprint
and the passage rules), so start-up can tell when an upgrade left them stale (`source_refresh`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from spotter.retrieval.atomic_file import replace_atomically, sync_directory
from spotter.retrieval.knowledge_base import KnowledgeDocument, KnowledgeFormatError
from spotter.retrieval.passages import PASSAGE_SCHEME

__all__ = [
    "CATALOGUE_FORMATS",
    "SOURCES_DIR",
    "IngestedSource",
    "IngestedSourceError",
    "embedding_scheme",
    "load_ingested_sources",
    "read_ingested_source",
    "record_ingested_source",
    "source_key",
    "source_record_path",
    "write_ingested_source",
]

logger = logging.getLogger(__name__)

#: The records' folder under the data directory.
SOURCES_DIR = "sources"
#: Formats whose records are an outside exercise catalogue, searched through the knowledge bridge.
CATALOGUE_FORMATS = frozenset({"free-exercise-db"})
_FORMAT = 1
_TEMP_PREFIX = ".tmp-"
_SLUG = re.compile(r"[^a-z0-9]+")

_Metadata = dict[str, str | int | float | bool | list[str]]


class _Document(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    title: str
    kind: str
    text: str
    metadata: _Metadata = msgspec.field(default_factory=dict)


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    format: int
    key: str
    path: str
    source_format: str
    ingested_at: str
    documents: list[_Document]
    embedding: str = ""  # absent in records written before it was kept: unknown, so stale


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Record)


class IngestedSourceError(KnowledgeFormatError):
    """A source record cannot be read or does not follow the record format; names the file."""


@dataclass(frozen=True, slots=True)
class IngestedSource:
    """One ingested file: where it came from, its format and the documents stored from it."""

    key: str
    path: str
    format: str
    documents: tuple[KnowledgeDocument, ...]
    ingested_at: str = ""
    embedding: str = ""  # `embedding_scheme` of its vectors; "" when not known

    @property
    def is_catalogue(self) -> bool:
        """True for an outside exercise catalogue (ranked through the knowledge bridge)."""
        return self.format in CATALOGUE_FORMATS

    @property
    def ids(self) -> frozenset[str]:
        """The ids of the source's documents (the `doc_id` of their vectors)."""
        return frozenset(doc.id for doc in self.documents)


def embedding_scheme(fingerprint: str) -> str:
    """What vectors were made with: the embedder's `fingerprint` and the passage rules."""
    return f"{fingerprint}|{PASSAGE_SCHEME}"


def source_key(path: Path, fmt: str) -> str:
    """`<format>-<file name>-<12 hex of the resolved path>`: stable for the same file."""
    resolved = str(path.resolve())
    slug = _SLUG.sub("-", path.stem.lower()).strip("-")[:40] or "source"
    return f"{fmt}-{slug}-{hashlib.sha256(resolved.encode()).hexdigest()[:12]}"


def source_record_path(data_dir: Path, key: str) -> Path:
    """Where the record of source `key` lives."""
    return data_dir / SOURCES_DIR / f"{key}.json"


def write_ingested_source(
    data_dir: Path,
    path: Path,
    fmt: str,
    documents: Sequence[KnowledgeDocument],
    *,
    embedding: str = "",
) -> IngestedSource:
    """Record `documents` as the content of source (`path`, `fmt`), replacing its old record;
    `embedding` is the `embedding_scheme` their vectors were just made with."""
    source = IngestedSource(
        key=source_key(path, fmt),
        path=str(path.resolve()),
        format=fmt,
        documents=tuple(documents),
        ingested_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        embedding=embedding,
    )
    return record_ingested_source(data_dir, source)


def record_ingested_source(data_dir: Path, source: IngestedSource) -> IngestedSource:
    """Write `source` as its record (atomically, replacing the previous one); returns it."""
    record = _Record(
        format=_FORMAT,
        key=source.key,
        path=source.path,
        source_format=source.format,
        ingested_at=source.ingested_at,
        documents=[
            _Document(d.id, d.title, d.kind, d.text, dict(d.metadata)) for d in source.documents
        ],
        embedding=source.embedding,
    )
    folder = data_dir / SOURCES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    replace_atomically(source_record_path(data_dir, source.key),
                       lambda handle: handle.write(_encoder.encode(record)), temp_prefix=_TEMP_PREFIX)
    sync_directory(folder)
    return source


def read_ingested_source(record_path: Path) -> IngestedSource:
    """One record; raises IngestedSourceError when it is unreadable or malformed."""
    try:
        record = _decoder.decode(record_path.read_bytes())
    except (OSError, msgspec.DecodeError) as exc:
        raise IngestedSourceError(f"{record_path}: not a readable source record: {exc}") from None
    if record.format != _FORMAT:
        raise IngestedSourceError(f"{record_path}: record format {record.format}, "
                                  f"expected {_FORMAT}")  # fmt: skip
    if record.key != record_path.stem:
        raise IngestedSourceError(f"{record_path}: holds source {record.key!r}, not its file name")
    documents = tuple(
        KnowledgeDocument(d.id, d.title, d.kind, d.text, d.metadata) for d in record.documents
    )
    if len({d.id for d in documents}) != len(documents):
        raise IngestedSourceError(f"{record_path}: document ids are not unique")
    return IngestedSource(record.key, record.path, record.source_format, documents,
                          record.ingested_at, record.embedding)  # fmt: skip


def load_ingested_sources(data_dir: Path) -> list[IngestedSource]:
    """Every readable record under `data_dir`, in key order; unreadable ones are logged and
    skipped, so one damaged file costs that source its BM25 ranking, not the service."""
    folder = data_dir / SOURCES_DIR
    if not folder.is_dir():
        return []
    sources: list[IngestedSource] = []
    for record_path in sorted(folder.glob("*.json")):
        if record_path.name.startswith(_TEMP_PREFIX):
            continue  # an interrupted write; the previous record (if any) is intact
        try:
            sources.append(read_ingested_source(record_path))
        except IngestedSourceError as exc:
            logger.warning("ignoring an ingested source: %s; run `spotter ingest` on it again "
                           "to rewrite the record", exc)  # fmt: skip
    return sources
