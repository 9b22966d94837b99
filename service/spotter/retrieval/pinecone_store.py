"""`VectorStore` on a Pinecone serverless index, through the official SDK's data plane.

For deployments that want managed vector search instead of the in-process store. The index is
addressed by host (no control-plane lookup), must use the cosine metric and the embedder's
dimension, and holds one namespace per `VectorStore` namespace. The SDK is synchronous, so each
call runs in a worker thread; every SDK failure to reach or use the index becomes
BackendUnavailable, while invalid input is rejected locally with ValueError before any request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from pinecone import Index, NotFoundError, PineconeError, PineconeTypeError, PineconeValueError

from spotter.errors import BackendUnavailable, ConfigurationError
from spotter.retrieval.metadata_filter import compile_filter, validate_metadata
from spotter.retrieval.vector_store import MetadataValue, VectorMatch, VectorRecord

__all__ = ["PineconeVectorStore"]

_T = TypeVar("_T")
#: Pinecone accepts up to 2 MB per upsert; 100 records of 384 floats stay far below it.
_UPSERT_BATCH = 100
_DELETE_BATCH = 1000  # Pinecone's cap on ids per delete request
_MAX_ID_CHARS = 512


class PineconeVectorStore:
    """Namespaced cosine search on the Pinecone index at `host`.

    `timeout_seconds` bounds each HTTP attempt; the SDK retries connection errors and 5xx a few
    times with backoff before the error surfaces here.
    """

    def __init__(self, api_key: str, host: str, *, dimension: int = 384,
                 timeout_seconds: float = 10.0) -> None:
        if not api_key or not host:  # else the SDK would fall back to reading the environment
            raise ConfigurationError("PINECONE_API_KEY and SPOTTER_PINECONE_HOST must be set")
        try:
            # `Index` straight from the host: the `Pinecone` control-plane client would cost
            # ~0.2 s to build and is never used (no index lookup, no management calls).
            self._index = Index(host=host, api_key=api_key, timeout=timeout_seconds)
        except PineconeValueError as error:
            raise ConfigurationError(
                f"PINECONE_API_KEY / SPOTTER_PINECONE_HOST are not usable: {error}") from error
        self._dimension = dimension

    async def upsert(self, namespace: str, records: Sequence[VectorRecord]) -> None:
        """Insert or replace records by id, in requests of up to 100 records."""
        vectors = [self._wire_record(record) for record in records]
        for start in range(0, len(vectors), _UPSERT_BATCH):
            batch = vectors[start:start + _UPSERT_BATCH]
            await self._call("upsert", partial(self._index.upsert, vectors=batch,
                                               namespace=namespace))

    async def query(self, namespace: str, vector: npt.NDArray[np.float32], top_k: int,
                    filter: Mapping[str, object] | None = None) -> list[VectorMatch]:
        """The `top_k` records most similar to `vector`, best first, with their metadata."""
        if top_k < 1:
            raise ValueError("top_k must be >= 1")
        values = self._values(vector)
        compile_filter(filter)  # same syntax errors as the local store, before any request
        response = await self._call("query", lambda: self._index.query(
            top_k=top_k, vector=values, namespace=namespace,
            filter=dict(filter) if filter else None, include_metadata=True))
        return [
            VectorMatch(id=match.id, score=float(match.score),
                        metadata=_from_wire(match.metadata or {}))
            for match in response.matches
        ]

    async def delete(self, namespace: str, ids: Sequence[str]) -> None:
        """Remove records by id; unknown ids (or an unknown namespace) are ignored."""
        ids = list(ids)
        for start in range(0, len(ids), _DELETE_BATCH):
            batch = ids[start:start + _DELETE_BATCH]
            await self._call("delete", _ignore_missing(partial(
                self._index.delete, ids=batch, namespace=namespace)))

    async def delete_namespace(self, namespace: str) -> None:
        """Remove every record in the namespace; a namespace that never existed is fine."""
        await self._call("delete all", _ignore_missing(partial(
            self._index.delete, delete_all=True, namespace=namespace)))

    async def ping(self) -> bool:
        """Whether the index answers `describe_index_stats` with our API key."""
        try:
            await self._call("describe_index_stats", self._index.describe_index_stats)
        except BackendUnavailable:
            return False
        return True

    async def close(self) -> None:
        """Release the SDK's connection pool (the store is unusable afterwards)."""
        self._index.close()

    async def _call(self, what: str, request: Callable[[], _T]) -> _T:
        try:
            return await asyncio.to_thread(request)
        except (PineconeValueError, PineconeTypeError):
            raise  # our own bad input: a bug, not an outage
        except PineconeError as error:
            raise BackendUnavailable(f"Pinecone {what} failed: {error}") from error

    def _values(self, vector: object) -> list[float]:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape != (self._dimension,):
            raise ValueError(f"vectors must have {self._dimension} dimensions, got {array.size}")
        if not np.all(np.isfinite(array)) or not np.any(array):
            raise ValueError("vectors must be finite and not all zero")
        return [float(x) for x in array]

    def _wire_record(self, record: VectorRecord) -> dict[str, Any]:
        if not isinstance(record.id, str) or not 0 < len(record.id) <= _MAX_ID_CHARS:
            raise ValueError(f"record ids must be 1-{_MAX_ID_CHARS} characters: {record.id!r}")
        validate_metadata(record.metadata)
        wire: dict[str, Any] = {"id": record.id, "values": self._values(record.vector)}
        if record.metadata:
            wire["metadata"] = {k: list(v) if isinstance(v, list) else v
                                for k, v in record.metadata.items()}
        return wire


def _ignore_missing(request: Callable[[], object]) -> Callable[[], None]:
    """Serverless indexes answer 404 to a delete in a namespace that does not exist (yet)."""

    def run() -> None:
        with contextlib.suppress(NotFoundError):
            request()

    return run


def _from_wire(metadata: Mapping[str, Any]) -> dict[str, MetadataValue]:
    """Pinecone returns every number as a float; whole numbers come back as ints, as stored."""
    return {
        key: int(value) if isinstance(value, float) and value.is_integer() else value
        for key, value in metadata.items()
    }
