"""The composition root: builds every component from Settings, starts and stops them.

Framework-free, so the CLI, the HTTP app and tests assemble the service the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spotter.errors import BackendUnavailable, ConfigurationError
from spotter.llm.base import LanguageModel
from spotter.llm.factory import build_language_model
from spotter.memory.backend import ConversationMemory
from spotter.memory.in_process import InProcessMemory
from spotter.metrics import Metrics, python_heap
from spotter.retrieval.base import Retriever
from spotter.retrieval.catalogue_search import build_retriever
from spotter.retrieval.embedding import Embedder
from spotter.retrieval.index import ensure_knowledge_index
from spotter.retrieval.knowledge_base import load_knowledge
from spotter.retrieval.query_batching import QueryBatcher
from spotter.retrieval.source_refresh import refresh_ingested_sources
from spotter.retrieval.stores import open_vector_store
from spotter.retrieval.vector_store import VectorStore
from spotter.settings import Settings
from spotter.turns.coordinator import TurnCoordinator
from spotter.turns.limits import TurnLimits
from spotter.turns.pipeline import TurnPipeline
from spotter.workouts.factory import open_workout_repository
from spotter.workouts.repository import WorkoutRepository

if TYPE_CHECKING:
    from spotter.turns.shared_log import TurnLogMirror

__all__ = ["Services", "open_memory", "open_turn_mirror"]

logger = logging.getLogger(__name__)


def open_memory(settings: Settings) -> ConversationMemory:
    """The configured conversation memory backend."""
    if settings.uses_redis:
        from spotter.memory.redis_memory import RedisMemory

        return RedisMemory.from_settings(settings)
    if settings.memory_url.rstrip("/") != "memory:":
        raise ConfigurationError("SPOTTER_MEMORY_URL must be memory:// or redis://HOST:PORT/DB")
    return InProcessMemory(
        window=settings.memory_window,
        ttl_seconds=settings.memory_ttl_seconds,
        max_conversations=settings.memory_max_conversations,
        tombstone_seconds=settings.memory_tombstone_seconds,
    )


def open_turn_mirror(settings: Settings, memory: ConversationMemory) -> TurnLogMirror | None:
    """Shared turn logs on the memory's Redis, so resends can follow a turn across processes.

    None with in-process memory: one process holds every turn, so there is nothing to share.
    """
    if not settings.uses_redis:
        return None
    from spotter.memory.redis_memory import RedisMemory
    from spotter.turns.shared_log import RedisTurnLogMirror

    if not isinstance(memory, RedisMemory):
        return None
    grace = min(settings.resume_grace_seconds, settings.memory_ttl_seconds)
    return RedisTurnLogMirror(memory.client, grace_seconds=grace, prefix=memory.prefix)


@dataclass(slots=True)
class Services:
    """Everything a running service holds; `start()` before use, `stop()` at shutdown."""

    settings: Settings
    metrics: Metrics
    memory: ConversationMemory
    llm: LanguageModel
    embedder: Embedder
    vector_store: VectorStore
    workouts: WorkoutRepository
    retriever: Retriever
    coordinator: TurnCoordinator
    _sweeper: asyncio.Task[None] | None = field(default=None)
    _cancel_listener: asyncio.Task[None] | None = field(default=None)

    @classmethod
    async def open(cls, settings: Settings, metrics: Metrics | None = None) -> Services:
        """Build every component and make sure the knowledge index is current.

        Documents added with `spotter ingest` are read back from their records in the data
        directory, so BM25 (and the knowledge bridge, for catalogues) covers them too; any whose
        vectors an older model made are re-embedded first (`source_refresh`).
        """
        metrics = metrics or Metrics()
        memory = open_memory(settings)
        embedder = Embedder()
        vector_store = open_vector_store(settings)
        workouts = await open_workout_repository(settings)
        await ensure_knowledge_index(settings, vector_store, embedder)
        sources = await refresh_ingested_sources(settings.data_dir, vector_store, embedder)
        retriever = build_retriever(
            vector_store, QueryBatcher(embedder), workouts, load_knowledge(), sources
        )
        if sources:
            logger.info("ranking %d ingested source(s): %s", len(sources),
                        ", ".join(f"{s.key} ({len(s.documents)})" for s in sources))
        llm = build_language_model(settings)
        pipeline = TurnPipeline(
            memory=memory,
            retriever=retriever,
            llm=llm,
            metrics=metrics,
            max_output_tokens=settings.max_output_tokens,
            top_k=settings.retrieval_top_k,
        )
        coordinator = TurnCoordinator(
            memory=memory,
            pipeline=pipeline,
            limits=TurnLimits(settings.rate_limit_per_minute, settings.max_streams_per_user),
            metrics=metrics,
            heartbeat_seconds=settings.heartbeat_seconds,
            resume_grace_seconds=settings.resume_grace_seconds,
            mirror=open_turn_mirror(settings, memory),
        )
        services = cls(settings, metrics, memory, llm, embedder, vector_store, workouts, retriever, coordinator)
        metrics.sample("spotter_memory", "Conversation memory", services._memory_gauges)
        metrics.sample("spotter_python", "Python heap of this process", python_heap)
        return services

    async def _memory_gauges(self) -> dict[str, float]:
        stats = await self.memory.stats()
        return {
            "conversations": stats.conversations,
            "tombstones": stats.tombstones,
            "turn_records": stats.turn_records,
        }

    def start(self) -> None:
        """Start background work: the memory sweeper and, with shared memory, cancel requests."""
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="spotter-memory-sweeper")
        if self.coordinator.mirror is not None:
            self._cancel_listener = asyncio.create_task(
                self._listen_for_cancels(self.coordinator.mirror), name="spotter-cancel-listener"
            )

    async def _listen_for_cancels(self, mirror: TurnLogMirror) -> None:
        """Stop turns of this process that a Stop received by another process asked for."""
        while True:
            try:
                async for name in mirror.cancellations():
                    await self.coordinator.cancel_here(name)
            except BackendUnavailable:
                await asyncio.sleep(1)  # Redis is down; /readyz says so, and this resubscribes

    async def stop(self) -> None:
        """Drain turns, stop background work and close every connection."""
        await self.coordinator.drain(self.settings.drain_seconds)
        for task in (self._sweeper, self._cancel_listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.llm.aclose()
        await self.workouts.close()
        await self.memory.close()
        self.embedder.close()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.memory_sweep_seconds)
            try:
                await self.memory.sweep()
                self.coordinator.prune()
            except Exception:
                logger.exception("memory sweep failed")
