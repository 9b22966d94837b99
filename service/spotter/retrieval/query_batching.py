"""Questions asked at the same time share one forward pass of the embedding model.

Embedding one question costs ~19 ms of the embedding thread, mostly per-call overhead on a dozen
token rows; in a pass of 32 questions each costs ~8 ms (docs/benchmarks.md). So the questions that
arrive while a pass runs are embedded together in the next one: throughput grows with concurrency,
while a question on an idle server still goes straight through (there is no waiting window). The
callers of a pass resume one per event-loop pass, so new requests are read in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["BatchEmbedder", "QueryBatcher"]

Matrix = npt.NDArray[np.float32]


class BatchEmbedder(Protocol):
    """What the batcher needs from `spotter.retrieval.embedding.Embedder`."""

    async def embed_async(self, texts: Sequence[str], batch_size: int = 32) -> Matrix: ...


@dataclass(slots=True)
class _Request:
    texts: list[str]
    answer: asyncio.Future[Matrix]


class QueryBatcher:
    """`embed_async` for queries, one pass per group of concurrent callers.

    At most `max_rows` texts go into one pass; a caller's texts are never split across passes.
    A caller that is cancelled while waiting is dropped from the pass that has not started yet.
    """

    def __init__(self, embedder: BatchEmbedder, *, max_rows: int = 64) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be >= 1")
        self._embedder = embedder
        self._max_rows = max_rows
        self._waiting: list[_Request] = []
        self._runner: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    async def embed_async(self, texts: Sequence[str], batch_size: int = 32) -> Matrix:
        """Vectors for `texts` in order, embedded together with whatever else is waiting.

        `batch_size` is accepted for interface compatibility; the batcher sizes passes itself.
        """
        if isinstance(texts, str):
            raise TypeError("embed_async() takes a sequence of texts, not one string")
        if not texts:
            return await self._embedder.embed_async([])
        loop = asyncio.get_running_loop()
        request = _Request(list(texts), loop.create_future())
        self._waiting.append(request)
        if self._runner is None:
            self._runner = loop.create_task(self._run())
        return await request.answer

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch = self._next_batch()
                if not batch:
                    continue
                texts = [text for request in batch for text in request.texts]
                try:
                    vectors = await self._embedder.embed_async(texts, batch_size=self._max_rows)
                except Exception as error:  # every caller of the pass sees the failure
                    for request in batch:
                        if not request.answer.done():
                            request.answer.set_exception(error)
                    continue
                delivery = asyncio.get_running_loop().create_task(_deliver(batch, vectors))
                self._deliveries.add(delivery)
                delivery.add_done_callback(self._deliveries.discard)
        finally:
            self._runner = None
            # Only reached with callers waiting when this task itself was cancelled (shutdown).
            for request in self._waiting:
                if not request.answer.done():
                    request.answer.cancel()
            self._waiting.clear()

    def _next_batch(self) -> list[_Request]:
        """Take waiting callers, oldest first, up to `max_rows` texts (always at least one)."""
        batch: list[_Request] = []
        rows = 0
        while self._waiting:
            request = self._waiting[0]
            if request.answer.done():  # its caller was cancelled
                self._waiting.pop(0)
                continue
            if batch and rows + len(request.texts) > self._max_rows:
                break
            batch.append(self._waiting.pop(0))
            rows += len(request.texts)
        return batch


async def _deliver(batch: list[_Request], vectors: Matrix) -> None:
    """Hand a pass's vectors out one caller per event-loop pass, while the next pass already runs.

    Each caller goes on to rank its documents and start its answer; waking a whole pass's callers
    at once would make a newly arrived request wait for all of that work before it is even read.
    """
    start = 0
    try:
        for position, request in enumerate(batch):
            if position:
                await asyncio.sleep(0)
            end = start + len(request.texts)
            if not request.answer.done():
                request.answer.set_result(vectors[start:end])
            start = end
    finally:
        for request in batch:  # only when cancelled (shutdown) part-way
            if not request.answer.done():
                request.answer.cancel()
