"""The vector store interface both the embedded local store and Pinecone implement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["KNOWLEDGE_NAMESPACE", "MetadataValue", "VectorMatch", "VectorRecord", "VectorStore", "workout_namespace"]

#: The shared fitness knowledge base; every user's workouts live in a namespace of their own.
KNOWLEDGE_NAMESPACE = "knowledge"

MetadataValue = str | int | float | bool | list[str]
Vector = npt.NDArray[np.float32]


def workout_namespace(user_id: str) -> str:
    """The namespace holding one user's workouts: isolation is by namespace, not by filter."""
    return f"workouts.{user_id}"


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """A document's embedding (float32, L2-normalised) and its metadata."""

    id: str
    vector: Vector
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VectorMatch:
    """A query hit: cosine similarity in [-1, 1] and the stored metadata."""

    id: str
    score: float
    metadata: Mapping[str, MetadataValue]


class VectorStore(Protocol):
    """Namespaced vector search. Filters use Pinecone's metadata filter language
    (`$eq`, `$ne`, `$in`, `$nin`, `$gt`, `$gte`, `$lt`, `$lte`, `$and`, `$or`), so both stores
    accept the same filters. Errors reaching the store raise `spotter.errors.BackendUnavailable`."""

    async def upsert(self, namespace: str, records: Sequence[VectorRecord]) -> None:
        """Insert or replace records by id (idempotent)."""
        ...

    async def query(
        self,
        namespace: str,
        vector: Vector,
        top_k: int,
        filter: Mapping[str, object] | None = None,
    ) -> list[VectorMatch]:
        """The `top_k` records most similar to `vector`, best first."""
        ...

    async def delete(self, namespace: str, ids: Sequence[str]) -> None:
        """Remove records by id; unknown ids are ignored."""
        ...

    async def delete_namespace(self, namespace: str) -> None:
        """Remove every record of a namespace (erase-all for a user)."""
        ...

    async def ping(self) -> bool:
        """Whether the store is reachable (for /readyz)."""
        ...
