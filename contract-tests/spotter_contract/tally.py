"""What the contract run actually exercised: statuses per operation, streams and events validated.

A fuzzing run that passes because every case was a 400 proves little; the tally makes the run's
coverage visible and lets a test fail when too few complete streams were checked.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["TALLY", "ContractTally"]


@dataclass
class ContractTally:
    """Counts shared by the checks (which record) and the session summary (which prints)."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    streams_validated: int = 0
    events_validated: int = 0
    notes: list[str] = field(default_factory=list)
    _paused: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Record nothing meanwhile (responses of a deliberately broken service are not coverage)."""
        with self._lock:
            self._paused = True
        try:
            yield
        finally:
            with self._lock:
                self._paused = False

    def record_response(self, operation: str, status: int) -> None:
        if self._paused:
            return
        with self._lock:
            self.statuses.setdefault(operation, Counter())[status] += 1

    def record_stream(self, events: int) -> None:
        """One complete 200 stream whose every event passed every rule."""
        if self._paused:
            return
        with self._lock:
            self.streams_validated += 1
            self.events_validated += events

    @property
    def cases(self) -> int:
        return sum(sum(counter.values()) for counter in self.statuses.values())

    def cases_for(self, operation: str) -> int:
        return sum(self.statuses.get(operation, Counter()).values())

    def render(self) -> list[str]:
        """The histogram as printable lines, one per operation."""
        lines = [f"{'operation':<44} statuses (count)"]
        for operation in sorted(self.statuses):
            counts = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses[operation].items()))
            lines.append(f"{operation:<44} {counts}")
        lines.append(
            f"responses checked: {self.cases}; complete 200 streams validated event by event: "
            f"{self.streams_validated} ({self.events_validated} events)"
        )
        return lines + self.notes


TALLY = ContractTally()
