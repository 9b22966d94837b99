"""One turn, start to finish: checkpoint, retrieval, the LLM stream, and the commit to memory.

The pipeline writes encoded events into the turn's `TurnLog`; it never talks HTTP. It commits
a turn as a whole (user message plus answer) exactly once: on completion, or with the partial
answer when the turn is stopped, or not at all when no text was produced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from spotter.errors import BackendUnavailable, LLMError
from spotter.llm.base import ChatMessage, Finished, LanguageModel, LLMRequest, TextDelta
from spotter.llm.prompt import build_system_prompt
from spotter.memory.backend import ConversationMemory
from spotter.memory.model import ConversationState, TurnRecord
from spotter.metrics import Metrics
from spotter.retrieval.base import RetrievalHit, RetrievalQuery, RetrievalResult, Retriever
from spotter.turns.events import (
    ChatEvent,
    Checkpoint,
    Document,
    DocumentsFound,
    Done,
    ErrorEvent,
    FinishReason,
    Response,
    RetrievalStart,
    encode_event,
    scrub_text,
)
from spotter.turns.log import TurnLog
from spotter.turns.plan import CHECKPOINT_MESSAGES, TurnRequest, TurnStart

__all__ = ["LiveTurn", "StopReason", "TurnOpening", "TurnPipeline", "replay_frames"]

logger = logging.getLogger(__name__)

StopReason = Literal["cancelled", "disconnected", "shutdown"]
_Emit = Callable[[ChatEvent], bytes]
RETRIEVAL_TIMEOUT_SECONDS = 10.0


@dataclass(slots=True)
class LiveTurn:
    """A turn in progress: its request, its event log and, once stopped, why."""

    request: TurnRequest
    lock_owner: str
    received_at: float
    log: TurnLog = field(default_factory=TurnLog)
    task: asyncio.Task[None] | None = None
    stop_reason: StopReason | None = None

    def stop(self, reason: StopReason) -> None:
        """Ask the turn to stop; it commits what it produced and ends its stream."""
        if self.task is not None and not self.task.done():
            self.stop_reason = self.stop_reason or reason
            self.task.cancel()


@dataclass(frozen=True, slots=True)
class TurnOpening:
    """What `TurnPipeline.open` wrote, and the writer the rest of the turn continues with."""

    prelude: list[bytes]
    emit: _Emit


@dataclass(slots=True)
class _Answer:
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(slots=True)
class TurnPipeline:
    """Runs turns against the configured memory, retriever and language model."""

    memory: ConversationMemory
    retriever: Retriever
    llm: LanguageModel
    metrics: Metrics
    max_output_tokens: int
    top_k: int

    def open(self, turn: LiveTurn, start: TurnStart) -> TurnOpening:
        """Write the events every turn opens with (`checkpoint`, `retrieval_start`) at once.

        The coordinator calls this before the turn's task first runs, so the response's first
        write already carries them: on a busy event loop that saves the passes a new task waits
        for, which is most of the time to first event under load.
        """
        event_ids = iter(range(1, 1_000_000))

        def emit(event: ChatEvent) -> bytes:
            frame = encode_event(next(event_ids), event)
            if not turn.log.frames:
                self.metrics.time_to_first_event.observe(time.perf_counter() - turn.received_at)
            turn.log.append(frame)
            return frame

        prelude: list[bytes] = []
        if start.checkpoint is not None:
            self.metrics.checkpoints.inc(start.checkpoint.value)
            prelude.append(emit(Checkpoint(start.checkpoint.value, CHECKPOINT_MESSAGES[start.checkpoint])))
        prelude.append(emit(RetrievalStart(turn.request.message)))
        return TurnOpening(prelude, emit)

    async def run(
        self, turn: LiveTurn, start: TurnStart, window: ConversationState | None, opening: TurnOpening
    ) -> None:
        """Produce the rest of the turn's events into `turn.log`; never raises (failures become `error`)."""
        request = turn.request
        answer = _Answer()
        prelude, emit = opening.prelude, opening.emit
        try:
            found = await self._retrieve(request)
            prelude.append(emit(_documents_event(found)))
            history = window.messages if window is not None else ()
            llm_request = self._llm_request(request, history, found.hits)
            finish: FinishReason = "stop"
            self.metrics.llm_in_flight.inc()
            try:
                async with aclosing(self.llm.stream(llm_request)) as stream:
                    async for item in stream:
                        if isinstance(item, TextDelta):
                            text = scrub_text(item.text)
                            if text:
                                answer.parts.append(text)
                                emit(Response(text))
                        elif isinstance(item, Finished):
                            finish = item.reason
            finally:
                self.metrics.llm_in_flight.dec()
            if not answer.parts:
                raise LLMError("llm_empty", "The language model returned no text.", retryable=True)
            turns = await self._commit(request, answer, start)
            terminal = emit(Done(turns, finish, self.llm.model_id))
            self.metrics.turns.inc(finish)
            await self._record(request, prelude, answer, terminal)
        except LLMError as error:
            if answer.parts:
                await self._commit_quietly(request, answer, start)
            emit(ErrorEvent(error.code, error.message, error.retryable))
            self.metrics.turns.inc("error")
        except BackendUnavailable as error:
            emit(ErrorEvent("memory_unavailable", str(error), True))
            self.metrics.turns.inc("error")
        except asyncio.CancelledError:
            await self._finish_stopped(turn, start, prelude, answer, emit)
        except Exception:
            logger.exception("turn failed")
            emit(ErrorEvent("internal", "The turn failed unexpectedly.", True))
            self.metrics.turns.inc("error")
        finally:
            turn.log.finish()

    async def _finish_stopped(
        self,
        turn: LiveTurn,
        start: TurnStart,
        prelude: list[bytes],
        answer: _Answer,
        emit: _Emit,
    ) -> None:
        reason = turn.stop_reason or "disconnected"
        committed = await self._commit_quietly(turn.request, answer, start) if answer.parts else None
        self.metrics.turns.inc(f"stopped_{reason}")
        if reason == "shutdown":
            emit(ErrorEvent("shutting_down", "The server is restarting; send the message again.", True))
        elif committed is None:
            emit(ErrorEvent("cancelled", "The turn was stopped before any answer.", True))
        else:
            terminal = emit(Done(committed, "interrupted", self.llm.model_id))
            await self._record(turn.request, prelude, answer, terminal)

    async def _retrieve(self, request: TurnRequest) -> RetrievalResult:
        zone = ZoneInfo(request.timezone)
        query = RetrievalQuery(
            user_id=request.key.user_id,
            text=request.message,
            today=datetime.now(zone).date(),
            timezone=request.timezone,
            top_k=self.top_k,
        )
        try:
            return await asyncio.wait_for(self.retriever.retrieve(query), RETRIEVAL_TIMEOUT_SECONDS)
        except (TimeoutError, BackendUnavailable):
            return RetrievalResult((), degraded=True)

    def _llm_request(
        self, request: TurnRequest, history: Sequence[ChatMessage], hits: Sequence[RetrievalHit]
    ) -> LLMRequest:
        today = datetime.now(ZoneInfo(request.timezone)).date()
        return LLMRequest(
            system=build_system_prompt(hits, today=today, timezone=request.timezone),
            messages=(*history, ChatMessage("user", request.message)),
            max_tokens=self.max_output_tokens,
            documents=tuple(hits),
        )

    async def _commit(self, request: TurnRequest, answer: _Answer, start: TurnStart) -> int:
        turns = start.base_turns + 1
        await self.memory.append_turn(
            request.key,
            ChatMessage("user", request.message),
            ChatMessage("assistant", answer.text),
            turns,
        )
        return turns

    async def _commit_quietly(self, request: TurnRequest, answer: _Answer, start: TurnStart) -> int | None:
        """Commit a partial answer; a memory outage here is logged, since the stream already failed."""
        try:
            return await self._commit(request, answer, start)
        except BackendUnavailable:
            logger.warning("could not commit an interrupted turn: memory unavailable")
            return None

    async def _record(
        self, request: TurnRequest, prelude: list[bytes], answer: _Answer, terminal: bytes
    ) -> None:
        if request.idempotency_key is None:
            return
        record = TurnRecord(
            idempotency_key=request.idempotency_key,
            message_digest=request.digest,
            prelude=tuple(prelude),
            answer=answer.text,
            delta_lengths=tuple(len(part) for part in answer.parts),
            terminal=terminal,
        )
        try:
            await self.memory.save_record(request.key, record)
        except BackendUnavailable:
            logger.warning("could not keep the turn for replay: memory unavailable")


def _documents_event(found: RetrievalResult) -> DocumentsFound:
    documents = tuple(Document(h.id, h.title, h.source, round(h.score, 4)) for h in found.hits)
    return DocumentsFound(len(documents), found.degraded, documents)


def replay_frames(record: TurnRecord) -> list[bytes]:
    """Rebuild a recorded turn's exact frames: same ids, same deltas, same terminal event."""
    frames = list(record.prelude)
    position = 0
    next_id = len(frames) + 1
    for length in record.delta_lengths:
        frames.append(encode_event(next_id, Response(record.answer[position : position + length])))
        position += length
        next_id += 1
    frames.append(record.terminal)
    return frames
