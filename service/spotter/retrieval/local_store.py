"""The default vector store: exact cosine search over in-process NumPy matrices, persisted to disk.

Spotter's corpus is small (a knowledge base of thousands of documents, and each user's own
workouts), so an exact scan beats an approximate index: no extra service, deterministic results,
and 100k vectors still answer in milliseconds. It speaks the same metadata and filter rules as
Pinecone (`metadata_filter`), so the two stores are interchangeable behind `VectorStore`.

Each namespace is one `.npz` file (vectors plus a JSON block of ids and metadata), replaced
atomically: written to a temporary file in the same folder, fsynced, then `os.replace`d, so a
crash mid-write leaves the previous copy intact. User namespaces are written after every
mutation; bulk namespaces (the knowledge base) only on `flush()`, after an ingest.

Blocking work (disk, big scans) runs in worker threads, one lock per namespace, so a large
knowledge-base query never holds up a user's workout upsert or the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from spotter.errors import BackendUnavailable
from spotter.retrieval.atomic_file import replace_atomically, sync_directory
from spotter.retrieval.metadata_filter import (
    MetadataPredicate,
    compile_filter,
    validate_metadata,
)
from spotter.retrieval.vector_store import (
    KNOWLEDGE_NAMESPACE,
    MetadataValue,
    VectorMatch,
    VectorRecord,
)

__all__ = ["LocalVectorStore"]

_FORMAT = 1
_TEMP_PREFIX = ".tmp-"
_MAX_ID_CHARS = 512  # Pinecone's limit, kept so data moves between the stores unchanged
#: Namespaces up to this many rows are searched on the event loop: a few hundred microseconds.
_INLINE_ROWS = 4096

Vector = npt.NDArray[np.float32]
_T = TypeVar("_T")


class _Namespace:
    """One namespace's rows: row i is ids[i], vectors[i], metadata[i]; `vectors` has spare rows."""

    def __init__(self, name: str, dimension: int) -> None:
        self.name = name
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}
        self.vectors: Vector = np.empty((0, dimension), dtype=np.float32)
        self.metadata: list[dict[str, MetadataValue]] = []
        self.dirty = False

    @property
    def size(self) -> int:
        return len(self.ids)

    def upsert(self, rows: list[tuple[str, Vector, dict[str, MetadataValue]]]) -> None:
        for record_id, vector, metadata in rows:
            position = self.positions.get(record_id)
            if position is None:
                position = self.size
                if position == len(self.vectors):
                    grown = np.empty((max(16, 2 * position), self.vectors.shape[1]), np.float32)
                    grown[:position] = self.vectors[:position]
                    self.vectors = grown
                self.positions[record_id] = position
                self.ids.append(record_id)
                self.metadata.append(metadata)
            else:
                self.metadata[position] = metadata
            self.vectors[position] = vector
        self.dirty = True

    def delete(self, ids: Sequence[str]) -> None:
        for record_id in ids:
            position = self.positions.pop(record_id, None)
            if position is None:
                continue
            last = self.size - 1
            if position != last:  # move the last row into the hole
                moved = self.ids[last]
                self.ids[position] = moved
                self.metadata[position] = self.metadata[last]
                self.vectors[position] = self.vectors[last]
                self.positions[moved] = position
            self.ids.pop()
            self.metadata.pop()
            self.dirty = True

    def search(self, query: Vector, top_k: int, predicate: MetadataPredicate | None
               ) -> list[VectorMatch]:
        n = self.size
        if n == 0:
            return []
        scores = self.vectors[:n] @ query
        if predicate is None:
            chosen = list(_best(scores, top_k))
        else:
            # Walk candidates best-first, widening the window only while too few pass the
            # filter: typical filters cost one small window, not a Python pass over every row.
            chosen, seen = [], set()
            window = min(n, max(8 * top_k, 64))
            while True:
                for i in _best(scores, window):
                    if i in seen:
                        continue
                    seen.add(i)
                    if predicate(self.metadata[i]):
                        chosen.append(i)
                        if len(chosen) == top_k:
                            break
                if len(chosen) == top_k or window == n:
                    break
                window = min(n, 4 * window)
        return [
            VectorMatch(id=self.ids[i], score=min(1.0, max(-1.0, float(scores[i]))),
                        metadata=_copy(self.metadata[i]))
            for i in chosen
        ]


def _best(scores: Vector, k: int) -> list[int]:
    """Indices of the k highest scores, best first; ties broken by row for determinism."""
    n = len(scores)
    candidates = np.arange(n) if k >= n else np.argpartition(-scores, k - 1)[:k]
    order = np.lexsort((candidates, -scores[candidates]))
    return [int(i) for i in candidates[order]]


def _copy(metadata: Mapping[str, MetadataValue]) -> dict[str, MetadataValue]:
    return {k: list(v) if isinstance(v, list) else v for k, v in metadata.items()}


class LocalVectorStore:
    """`VectorStore` over NumPy, persisted under `directory` (created if missing).

    Raises BackendUnavailable when the directory cannot be created, read or written; invalid
    input (wrong dimension, zero vector, bad metadata or filter) raises ValueError. If a write
    fails, the change stays in memory and is written by the next successful write of that
    namespace.
    """

    def __init__(self, directory: Path, *, dimension: int = 384,
                 bulk_namespaces: Collection[str] = (KNOWLEDGE_NAMESPACE,)) -> None:
        self._directory = Path(directory)
        self._dimension = dimension
        self._bulk = frozenset(bulk_namespaces)
        self._namespaces: dict[str, _Namespace] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            for leftover in self._directory.glob(_TEMP_PREFIX + "*"):  # from a crash mid-write
                leftover.unlink(missing_ok=True)
            with tempfile.TemporaryFile(dir=self._directory):
                pass
        except OSError as error:
            raise BackendUnavailable(f"vector store directory {self._directory} is unusable: "
                                     f"{error}") from error

    async def upsert(self, namespace: str, records: Sequence[VectorRecord]) -> None:
        """Insert or replace records by id; a batch is validated whole before anything changes."""
        if records:
            await asyncio.to_thread(self._upsert, namespace, records)

    async def query(self, namespace: str, vector: Vector, top_k: int,
                    filter: Mapping[str, object] | None = None) -> list[VectorMatch]:
        """The `top_k` records with the highest cosine similarity to `vector`, best first."""
        if top_k < 1:
            raise ValueError("top_k must be >= 1")
        query = self._unit(vector)
        predicate = compile_filter(filter)
        lock = self._lock(namespace)
        loaded = self._namespaces.get(namespace)
        if loaded is not None and loaded.size <= _INLINE_ROWS and lock.acquire(blocking=False):
            try:
                if self._namespaces.get(namespace) is loaded:  # not dropped meanwhile
                    return loaded.search(query, top_k, predicate)
            finally:
                lock.release()
        return await asyncio.to_thread(
            self._locked, namespace, lambda ns: ns.search(query, top_k, predicate))

    async def delete(self, namespace: str, ids: Sequence[str]) -> None:
        """Remove records by id; unknown ids are ignored."""
        if ids:
            await asyncio.to_thread(self._locked, namespace, lambda ns: self._mutate(
                ns, lambda: ns.delete(list(ids))))

    async def delete_namespace(self, namespace: str) -> None:
        """Remove the namespace from memory and disk at once (also for bulk namespaces)."""
        await asyncio.to_thread(self._drop, namespace)

    async def flush(self) -> None:
        """Write every namespace with unwritten changes (call after a bulk ingest)."""
        await asyncio.to_thread(self._flush)

    async def ping(self) -> bool:
        """Whether the directory is still there and writable."""
        return self._directory.is_dir() and os.access(self._directory, os.W_OK | os.X_OK)

    # -- worker-thread side -------------------------------------------------------------

    def _upsert(self, namespace: str, records: Sequence[VectorRecord]) -> None:
        rows = []
        for record in records:
            if not isinstance(record.id, str) or not 0 < len(record.id) <= _MAX_ID_CHARS:
                raise ValueError(f"record ids must be 1-{_MAX_ID_CHARS} characters: {record.id!r}")
            validate_metadata(record.metadata)
            rows.append((record.id, self._unit(record.vector), _copy(record.metadata)))
        self._locked(namespace, lambda ns: self._mutate(ns, lambda: ns.upsert(rows)))

    def _mutate(self, ns: _Namespace, change: Callable[[], None]) -> None:
        change()
        if ns.name not in self._bulk and ns.dirty:
            self._write(ns)

    def _flush(self) -> None:
        for name in list(self._namespaces):
            self._locked(name, lambda ns: self._write(ns) if ns.dirty else None)

    def _drop(self, namespace: str) -> None:
        with self._lock(namespace):
            self._namespaces.pop(namespace, None)
            try:
                self._path(namespace).unlink(missing_ok=True)
                sync_directory(self._directory)
            except OSError as error:
                raise BackendUnavailable(f"cannot delete namespace {namespace!r}: {error}"
                                         ) from error

    def _locked(self, namespace: str, action: Callable[[_Namespace], _T]) -> _T:
        with self._lock(namespace):
            ns = self._namespaces.get(namespace)
            if ns is None:
                ns = self._namespaces[namespace] = self._load(namespace)
            return action(ns)

    def _lock(self, namespace: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(namespace, threading.Lock())

    def _path(self, namespace: str) -> Path:
        # Namespaces embed user ids; a hash keeps any id a safe, bounded file name.
        return self._directory / f"{hashlib.sha256(namespace.encode()).hexdigest()[:32]}.npz"

    def _load(self, namespace: str) -> _Namespace:
        ns = _Namespace(namespace, self._dimension)
        path = self._path(namespace)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(data["records"].tobytes())
                vectors = np.array(data["vectors"], dtype=np.float32)
        except FileNotFoundError:
            return ns
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise BackendUnavailable(f"cannot read {path} ({namespace!r}): {error}") from error
        ids, metadata = header.get("ids", []), header.get("metadata", [])
        if (header.get("format") != _FORMAT or header.get("namespace") != namespace
                or vectors.shape != (len(ids), self._dimension) or len(metadata) != len(ids)):
            raise BackendUnavailable(f"{path} does not hold namespace {namespace!r} "
                                     f"in format {_FORMAT} with dimension {self._dimension}")
        ns.ids, ns.metadata, ns.vectors = ids, metadata, vectors
        ns.positions = {record_id: i for i, record_id in enumerate(ids)}
        return ns

    def _write(self, ns: _Namespace) -> None:
        path = self._path(ns.name)
        try:
            if ns.size == 0:
                path.unlink(missing_ok=True)
            else:
                header = {"format": _FORMAT, "namespace": ns.name, "ids": ns.ids,
                          "metadata": ns.metadata}
                records = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
                replace_atomically(
                    path,
                    lambda handle: np.savez(handle, vectors=ns.vectors[:ns.size], records=records),
                    temp_prefix=_TEMP_PREFIX,
                )
            sync_directory(self._directory)
        except OSError as error:
            raise BackendUnavailable(f"cannot write namespace {ns.name!r} to {path}: {error}"
                                     ) from error
        ns.dirty = False

    def _unit(self, vector: object) -> Vector:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape != (self._dimension,):
            raise ValueError(f"vectors must have {self._dimension} dimensions, got {array.size}")
        norm = float(np.linalg.norm(array))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError("vectors must be finite and not all zero")
        return array / np.float32(norm)
