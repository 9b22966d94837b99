"""Opens the vector store the settings choose (embedded local files or Pinecone) and closes it.

One place decides where vectors live, so the server, `spotter ingest` and start-up indexing
always agree: local stores go in `<SPOTTER_DATA_DIR>/vectors`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.vector_store import VectorStore
from spotter.settings import Settings

__all__ = [
    "VECTORS_DIR",
    "close_vector_store",
    "flush_vector_store",
    "local_vectors_dir",
    "open_vector_store",
    "store_identity",
]

#: The local store's folder under the data directory.
VECTORS_DIR = "vectors"


@runtime_checkable
class _Flushable(Protocol):
    async def flush(self) -> None: ...


@runtime_checkable
class _Closable(Protocol):
    async def close(self) -> None: ...


def open_vector_store(settings: Settings) -> VectorStore:
    """The configured store: `LocalVectorStore(data_dir/vectors)` or Pinecone at its host."""
    if settings.vector_store == "pinecone":
        from spotter.retrieval.pinecone_store import PineconeVectorStore

        return PineconeVectorStore(api_key=settings.pinecone_api_key, host=settings.pinecone_host)
    return LocalVectorStore(local_vectors_dir(settings.data_dir))


def local_vectors_dir(data_dir: Path) -> Path:
    """Where the local store keeps its files."""
    return data_dir / VECTORS_DIR


def store_identity(settings: Settings) -> str:
    """Names the place vectors live, so an index built in one store is not trusted in another."""
    if settings.vector_store == "pinecone":
        return f"pinecone:{settings.pinecone_host}"
    return "local"


async def flush_vector_store(store: VectorStore) -> None:
    """Persist bulk writes (the local store keeps the knowledge namespace in memory until then)."""
    if isinstance(store, _Flushable):
        await store.flush()


async def close_vector_store(store: VectorStore) -> None:
    """Flush, then release connections if the store holds any."""
    await flush_vector_store(store)
    if isinstance(store, _Closable):
        await store.close()
