"""Per-user limits on turns: a sliding one-minute rate and a cap on concurrent streams."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from spotter.errors import RateLimited

__all__ = ["TurnLimits"]

WINDOW_SECONDS = 60.0


@dataclass(slots=True)
class TurnLimits:
    """Admits a turn or raises RateLimited with the seconds until it would be admitted."""

    per_minute: int
    max_streams: int
    clock: Callable[[], float] = time.monotonic
    _starts: dict[str, deque[float]] = field(default_factory=dict)
    _streams: dict[str, int] = field(default_factory=dict)

    def admit(self, user_id: str) -> None:
        """Record a turn start for `user_id`, or raise RateLimited."""
        now = self.clock()
        starts = self._starts.setdefault(user_id, deque())
        while starts and starts[0] <= now - WINDOW_SECONDS:
            starts.popleft()
        if len(starts) >= self.per_minute:
            wait = math.ceil(starts[0] + WINDOW_SECONDS - now)
            raise RateLimited(f"at most {self.per_minute} turns per minute", max(wait, 1))
        if self._streams.get(user_id, 0) >= self.max_streams:
            raise RateLimited(f"at most {self.max_streams} streaming turns at once", 1)
        starts.append(now)
        self._streams[user_id] = self._streams.get(user_id, 0) + 1

    def release(self, user_id: str) -> None:
        """The user's turn stopped streaming."""
        remaining = self._streams.get(user_id, 0) - 1
        if remaining > 0:
            self._streams[user_id] = remaining
        else:
            self._streams.pop(user_id, None)

    def prune(self) -> None:
        """Forget users with no start inside the window (keeps the table bounded by active users)."""
        horizon = self.clock() - WINDOW_SECONDS
        for user_id in [u for u, s in self._starts.items() if not s or s[-1] <= horizon]:
            del self._starts[user_id]
