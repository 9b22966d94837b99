"""The encoded events of one turn: written once by the turn, read by any number of streams.

Decoupling the turn from the HTTP response is what lets a resumable turn keep generating after
its client drops, and lets a resend join it or resume after `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio

__all__ = ["TurnLog"]


class TurnLog:
    """Append-only frames plus a wake-up for readers waiting on the next one."""

    __slots__ = ("_wakeup", "finished", "frames")

    def __init__(self, frames: list[bytes] | None = None, *, finished: bool = False) -> None:
        self.frames: list[bytes] = frames if frames is not None else []
        self.finished = finished
        self._wakeup: asyncio.Future[None] | None = None

    def append(self, frame: bytes) -> None:
        self.frames.append(frame)
        self._wake()

    def finish(self) -> None:
        self.finished = True
        self._wake()

    async def wait_for_more(self, seen: int, wait_seconds: float) -> bool:
        """Wait until there are more than `seen` frames or the log finished; False on timeout."""
        if len(self.frames) > seen or self.finished:
            return True
        if self._wakeup is None:
            self._wakeup = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(wait_seconds):
                # shield: a reader timing out must not cancel the wake-up other readers share
                await asyncio.shield(self._wakeup)
        except TimeoutError:
            return False
        return True

    def _wake(self) -> None:
        if self._wakeup is not None:
            if not self._wakeup.done():
                self._wakeup.set_result(None)
            self._wakeup = None
