"""The encoded events of one turn: written once by the turn, read by any number of streams.

Decoupling the turn from the HTTP response is what lets a resumable turn keep generating after
its client drops, and lets a resend join it or resume after `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio

__all__ = ["TurnLog"]


class TurnLog:
    """Append-only frames plus a wake-up for readers waiting on the next one."""

    __slots__ = ("_waiters", "finished", "frames")

    def __init__(self, frames: list[bytes] | None = None, *, finished: bool = False) -> None:
        self.frames: list[bytes] = frames if frames is not None else []
        self.finished = finished
        self._waiters: set[asyncio.Future[bool]] = set()

    def append(self, frame: bytes) -> None:
        self.frames.append(frame)
        self._wake()

    def finish(self) -> None:
        self.finished = True
        self._wake()

    async def wait_for_more(self, seen: int, wait_seconds: float) -> bool:
        """Wait until there are more than `seen` frames or the log finished; False on timeout.

        Each wait is one future and one timer, and a timeout resolves the future instead of
        cancelling the task: thousands of idle streams send their heartbeats from this path.
        """
        if len(self.frames) > seen or self.finished:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.add(waiter)
        timer = loop.call_later(wait_seconds, self._time_out, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiters.discard(waiter)

    def _time_out(self, waiter: asyncio.Future[bool]) -> None:
        self._waiters.discard(waiter)
        if not waiter.done():
            waiter.set_result(False)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(True)
