"""Retrieval cost in Spotter: query embedding and local-store search ms at 1k, 10k and 100k vectors.

Uses the real `spotter.retrieval.embedding.Embedder` and `spotter.retrieval.local_store.LocalVectorStore`
(random unit vectors in a temporary directory, queried as the retriever queries: top 64 passages).
Also compares the baseline's query vectors with Spotter's (same model, so cosine ~ 1).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.workload import QUESTIONS
from spotter.retrieval.embedding import Embedder
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.vector_store import KNOWLEDGE_NAMESPACE, VectorRecord

__all__ = ["measure_retrieval", "vector_agreement"]

PASSAGES_PER_QUERY = 64  # what SpotterRetriever asks the store for
_ROUNDS = 3


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered) * 1000, 3),
            "p99": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 3)}


async def measure_retrieval(sizes: tuple[int, ...], queries: int) -> dict[str, Any]:
    """Embedding ms per query, then search ms per query for each store size."""
    embedder = Embedder()
    embedder.load()
    embedder.embed(["warm up"])
    embed_times: list[float] = []
    vectors = []
    for round_ in range(_ROUNDS):
        for question in QUESTIONS:
            started = time.perf_counter()
            vector = (await embedder.embed_async([question]))[0]
            embed_times.append(time.perf_counter() - started)
            if round_ == 0:
                vectors.append(vector)
    rng = np.random.default_rng(7)
    by_size: list[dict[str, Any]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="spotter-bench-") as directory:
            store = LocalVectorStore(Path(directory))
            for start in range(0, size, 10_000):
                block = rng.standard_normal((min(10_000, size - start), 384), dtype=np.float32)
                await store.upsert(KNOWLEDGE_NAMESPACE, [
                    VectorRecord(f"doc-{start + i}", row, {"doc_id": f"doc-{start + i}", "title": "t", "text": "x"})
                    for i, row in enumerate(block)])
            search_times: list[float] = []
            for i in range(queries):
                started = time.perf_counter()
                await store.query(KNOWLEDGE_NAMESPACE, vectors[i % len(vectors)], PASSAGES_PER_QUERY)
                search_times.append(time.perf_counter() - started)
            search = _ms(search_times)
            embed = _ms(embed_times)
            by_size.append({"vectors": size, "search_ms": search, "embed_ms": embed,
                            "total_ms_p50": round(embed["p50"] + search["p50"], 3)})
    embedder.close()
    return {"embed_ms": _ms(embed_times), "sizes": by_size, "top_k": PASSAGES_PER_QUERY}


def vector_agreement(baseline_vectors: list[list[float]]) -> float:
    """The lowest cosine between Spotter's and the baseline's vector of the same question."""
    embedder = Embedder()
    mine = embedder.embed(list(QUESTIONS))
    theirs = np.array(baseline_vectors, dtype=np.float32)
    cosines = np.sum(mine * theirs, axis=1) / (np.linalg.norm(mine, axis=1) * np.linalg.norm(theirs, axis=1))
    embedder.close()
    return float(cosines.min())


def main() -> None:
    import json
    print(json.dumps(asyncio.run(measure_retrieval((1000, 10_000), 20))))


if __name__ == "__main__":
    main()
