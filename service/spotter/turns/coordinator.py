"""Admits, runs, joins, replays and stops turns; the one entry point the HTTP layer calls.

Rules it enforces (the spec's): one turn at a time per conversation (409), per-user limits
(429), Idempotency-Key replay/join/resume and its 422, and cancellation on disconnect for turns
sent without a key. Turns run as tasks of their own, so a resumable turn survives its client.
With a `mirror` (Redis memory), keyed turns are shared, so a resend that reaches another process
follows the turn there instead of getting 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spotter.errors import BackendUnavailable, ConversationBusy, IdempotencyConflict
from spotter.memory.backend import ConversationMemory
from spotter.memory.model import ConversationKey, LoadResult
from spotter.metrics import Metrics
from spotter.turns.events import HEARTBEAT
from spotter.turns.limits import TurnLimits
from spotter.turns.log import TurnLog
from spotter.turns.pipeline import LiveTurn, TurnOpening, TurnPipeline, replay_frames
from spotter.turns.plan import TurnRequest, TurnStart, plan_turn

if TYPE_CHECKING:
    from spotter.turns.shared_log import TurnLogMirror

__all__ = ["Draining", "TurnCoordinator", "TurnStream"]

logger = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 30.0
MIRROR_FLUSH_SECONDS = 2.0


class Draining(BackendUnavailable):
    """The instance is shutting down and takes no new turns."""


@dataclass(slots=True)
class TurnStream:
    """What the HTTP layer streams: frames of a turn's log after `after_id`, with heartbeats.

    `remote` replaces the log for a turn running on another process (already after `after_id`).
    """

    log: TurnLog | None
    after_id: int
    heartbeat_seconds: float
    turn: LiveTurn | None = None
    cancel_on_disconnect: bool = False
    remote: AsyncGenerator[bytes, None] | None = None

    async def frames(self) -> AsyncGenerator[bytes, None]:
        """Chunks of whole frames as they are produced; a heartbeat comment whenever none came for a while."""
        if self.remote is not None:
            async with contextlib.aclosing(self.remote) as remote:
                async for frame in remote:
                    yield frame
            return
        assert self.log is not None
        position = self.after_id
        try:
            while True:
                frames = self.log.frames
                if position < len(frames):
                    # Frames that piled up since the last write go out as one chunk: the bytes
                    # are the same, the socket writes fewer.
                    ready = len(frames)
                    yield frames[position] if ready - position == 1 else b"".join(frames[position:ready])
                    position = ready
                if self.log.finished:
                    return
                if not await self.log.wait_for_more(position, self.heartbeat_seconds):
                    yield HEARTBEAT
        finally:
            self.reader_gone()

    def reader_gone(self) -> None:
        """The response is over: an unkeyed turn nobody reads any more stops (a keyed one runs on).

        Called when the frames end and again by the HTTP layer once the response is done, because
        a disconnect can end the response without resuming the frames to run their `finally`.
        """
        if self.cancel_on_disconnect and self.turn is not None and self.log is not None and not self.log.finished:
            self.turn.stop("disconnected")


@dataclass(slots=True)
class TurnCoordinator:
    """Owns the live turns of this process."""

    memory: ConversationMemory
    pipeline: TurnPipeline
    limits: TurnLimits
    metrics: Metrics
    heartbeat_seconds: float
    resume_grace_seconds: float
    mirror: TurnLogMirror | None = None
    draining: bool = False
    _live: dict[str, LiveTurn] = field(default_factory=dict)
    _mirroring: set[asyncio.Task[None]] = field(default_factory=set)
    _lingering: dict[tuple[str, str], tuple[LiveTurn, float]] = field(default_factory=dict)

    async def start(self, request: TurnRequest) -> TurnStream:
        """Run, join or replay the turn; raises the domain errors the spec maps to 4xx/503."""
        received_at = time.perf_counter()
        existing = self._joinable(request)
        if existing is not None:
            return existing
        if self.draining:
            raise Draining("this instance is draining for shutdown", retry_after=1)
        if request.idempotency_key is not None:
            record = await self.memory.find_record(request.key, request.idempotency_key)
            if record is not None:
                if record.message_digest != request.digest:
                    raise IdempotencyConflict("this Idempotency-Key was used with a different message")
                self.metrics.replays.inc()
                log = TurnLog(replay_frames(record), finished=True)
                return self._stream(log, request, None)
        name = str(request.key)
        if name in self._live:
            raise ConversationBusy(retry_after=1)
        owner = secrets.token_hex(16)
        if not await self.memory.acquire_lock(request.key, owner, LOCK_TTL_SECONDS):
            remote = await self._remote(request, await self._shared_digest(request))
            if remote is None:
                raise ConversationBusy(retry_after=1)
            return remote
        try:
            self.limits.admit(request.key.user_id)
        except Exception:
            await self.memory.release_lock(request.key, owner)
            raise
        try:
            holder = await self._claim(request)
        except Exception:
            await self._unclaim(request, owner, claimed=False)
            raise
        if holder is not None:  # the key's turn ran elsewhere since find_record: follow, never rerun
            await self._unclaim(request, owner, claimed=False)
            remote = await self._remote(request, holder)
            assert remote is not None
            return remote
        turn = LiveTurn(request, owner, received_at)
        try:
            loaded = await self.memory.load(request.key)
            start = plan_turn(loaded, request.client_turn)
            opening = self.pipeline.open(turn, start)
        except Exception:
            await self._unclaim(request, owner)
            raise
        self._live[name] = turn
        turn.task = asyncio.create_task(self._run(turn, start, loaded, opening))
        if self.mirror is not None and request.idempotency_key is not None:
            publishing = asyncio.create_task(self.mirror.publish(request.key, request.idempotency_key, turn.log))
            self._mirroring.add(publishing)
            publishing.add_done_callback(self._mirroring.discard)
        return self._stream(turn.log, request, turn)

    async def cancel(self, key: ConversationKey) -> None:
        """Stop the conversation's streaming turn, if any (the UI's Stop), on whichever process."""
        if not await self.cancel_here(str(key)) and self.mirror is not None:
            await self.mirror.request_cancel(key)

    async def cancel_here(self, name: str) -> bool:
        """Stop the turn of conversation `name` if this process runs it; whether it did."""
        turn = self._live.get(name)
        if turn is None:
            return False
        turn.stop("cancelled")
        await _settle(turn)
        return True

    async def forget(self, key: ConversationKey) -> None:
        """Cancel a streaming turn, then erase everything memory holds for the conversation."""
        await self.cancel(key)
        for lingering in [k for k in self._lingering if k[0] == str(key)]:
            del self._lingering[lingering]
        if self.mirror is not None:
            await self.mirror.forget(key)
        await self.memory.forget(key)

    async def forget_user(self, user_id: str) -> None:
        """Cancel the user's turns and erase all their conversations."""
        prefix = f"{user_id}:"
        for name, turn in list(self._live.items()):
            if name.startswith(prefix):
                turn.stop("cancelled")
                await _settle(turn)
        for lingering in [k for k in self._lingering if k[0].startswith(prefix)]:
            del self._lingering[lingering]
        if self.mirror is not None:
            await self.mirror.forget_user(user_id)
        await self.memory.forget_user(user_id)

    async def drain(self, deadline_seconds: float) -> int:
        """Refuse new turns, let running ones finish until the deadline, then stop the rest."""
        self.draining = True
        running = [turn.task for turn in self._live.values() if turn.task is not None]
        if running and deadline_seconds > 0:
            await asyncio.wait(running, timeout=deadline_seconds)
        stopped = len(self._live)
        for turn in list(self._live.values()):
            turn.stop("shutdown")
        for turn in list(self._live.values()):
            await _settle(turn)
        if self._mirroring:  # let the last frames reach the shared logs before memory closes
            await asyncio.wait(self._mirroring, timeout=MIRROR_FLUSH_SECONDS)
        return stopped

    def prune(self) -> None:
        """Drop ended turns whose resume grace has passed (called by the sweeper)."""
        now = time.monotonic()
        for name in [k for k, (_, until) in self._lingering.items() if until <= now]:
            del self._lingering[name]
        self.limits.prune()

    @property
    def live_turns(self) -> int:
        return len(self._live)

    def _joinable(self, request: TurnRequest) -> TurnStream | None:
        """A running or just-ended turn with the same user, conversation and Idempotency-Key."""
        if request.idempotency_key is None:
            return None
        name = str(request.key)
        live = self._live.get(name)
        if live is None:
            lingering = self._lingering.get((name, request.idempotency_key))
            live = lingering[0] if lingering else None
        if live is None or live.request.idempotency_key != request.idempotency_key:
            return None
        if live.request.digest != request.digest:
            raise IdempotencyConflict("this Idempotency-Key was used with a different message")
        self.metrics.replays.inc()
        return self._stream(live.log, request, live)

    async def _shared_digest(self, request: TurnRequest) -> str | None:
        """The digest of a keyed turn with this key on another process, if it is shared."""
        if self.mirror is None or request.idempotency_key is None:
            return None
        return await self.mirror.find(request.key, request.idempotency_key)

    async def _claim(self, request: TurnRequest) -> str | None:
        """Claim the shared log for a keyed turn about to run here; the holder's digest if taken."""
        if self.mirror is None or request.idempotency_key is None:
            return None
        return await self.mirror.claim(request.key, request.idempotency_key, request.digest)

    async def _unclaim(self, request: TurnRequest, owner: str, *, claimed: bool = True) -> None:
        """Undo an admission that will not run: the shared log (if claimed), the limit, the lock."""
        self.limits.release(request.key.user_id)
        try:
            if claimed and self.mirror is not None and request.idempotency_key is not None:
                await self.mirror.abandon(request.key, request.idempotency_key)
        finally:
            await self.memory.release_lock(request.key, owner)

    async def _remote(self, request: TurnRequest, digest: str | None) -> TurnStream | None:
        """Follow the turn another process runs (or ran) with this key; 422 for another message."""
        if digest is None or self.mirror is None or request.idempotency_key is None:
            return None
        if digest != request.digest:
            raise IdempotencyConflict("this Idempotency-Key was used with a different message")
        self.metrics.replays.inc()
        after_id = request.last_event_id or 0
        remote = self.mirror.follow(request.key, request.idempotency_key, after_id, self.heartbeat_seconds)
        return TurnStream(log=None, after_id=after_id, heartbeat_seconds=self.heartbeat_seconds, remote=remote)

    def _stream(self, log: TurnLog, request: TurnRequest, turn: LiveTurn | None) -> TurnStream:
        return TurnStream(
            log=log,
            after_id=request.last_event_id or 0,
            heartbeat_seconds=self.heartbeat_seconds,
            turn=turn,
            cancel_on_disconnect=turn is not None and request.idempotency_key is None,
        )

    async def _run(self, turn: LiveTurn, start: TurnStart, loaded: LoadResult, opening: TurnOpening) -> None:
        request = turn.request
        keepalive = asyncio.create_task(self._keep_lock(turn))
        self.metrics.running_turns.inc()
        try:
            await self.pipeline.run(turn, start, loaded.state, opening)
        finally:
            self.metrics.running_turns.dec()
            keepalive.cancel()
            name = str(request.key)
            if self._live.get(name) is turn:
                del self._live[name]
            if request.idempotency_key is not None and self.resume_grace_seconds > 0:
                until = time.monotonic() + self.resume_grace_seconds
                self._lingering[(name, request.idempotency_key)] = (turn, until)
            self.limits.release(request.key.user_id)
            with contextlib.suppress(BackendUnavailable):
                await self.memory.release_lock(request.key, turn.lock_owner)

    async def _keep_lock(self, turn: LiveTurn) -> None:
        """Renew the conversation lock while the turn runs, so a crashed holder's lock expires."""
        with contextlib.suppress(BackendUnavailable):
            while True:
                await asyncio.sleep(LOCK_TTL_SECONDS / 3)
                await self.memory.renew_lock(turn.request.key, turn.lock_owner, LOCK_TTL_SECONDS)


async def _settle(turn: LiveTurn) -> None:
    if turn.task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(turn.task)
