"""Prometheus text-format metrics without a client library: a few counters, gauges and one histogram.

Hand-written because the service needs only these and the exposition format is tiny; it keeps
import time and install weight down. Gauges that mirror state (conversations held) are sampled
by callbacks at scrape time instead of being kept in step by hand.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

__all__ = ["Counter", "Gauge", "Histogram", "Metrics", "python_heap"]


@dataclass(slots=True)
class Counter:
    """A monotonically increasing count, optionally split by one label."""

    name: str
    help: str
    label: str | None = None
    values: dict[str, float] = field(default_factory=dict)

    def inc(self, label_value: str = "", amount: float = 1.0) -> None:
        self.values[label_value] = self.values.get(label_value, 0.0) + amount

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        if not self.values and self.label is None:
            yield f"{self.name} 0"
        for label_value, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.label, label_value)} {_number(value)}"


@dataclass(slots=True)
class Gauge:
    """A value that goes up and down."""

    name: str
    help: str
    value: float = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} gauge"
        yield f"{self.name} {_number(self.value)}"


@dataclass(slots=True)
class Histogram:
    """Cumulative buckets of observed durations in seconds."""

    name: str
    help: str
    buckets: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    observations: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, seconds: float) -> None:
        index = bisect.bisect_left(self.buckets, seconds)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += seconds
        self.observations += 1

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts, strict=True):
            cumulative += count
            yield f'{self.name}_bucket{{le="{_number(bound)}"}} {cumulative}'
        yield f'{self.name}_bucket{{le="+Inf"}} {self.observations}'
        yield f"{self.name}_sum {_number(self.total)}"
        yield f"{self.name}_count {self.observations}"


SampledGauge = Callable[[], Awaitable[dict[str, float]]]


@dataclass(slots=True)
class Metrics:
    """Every metric the service exports (`/metrics`); tests read these, not internals."""

    open_streams: Gauge = field(default_factory=lambda: Gauge(
        "spotter_open_streams", "Chat streams currently open to clients."))
    running_turns: Gauge = field(default_factory=lambda: Gauge(
        "spotter_running_turns", "Turns currently generating."))
    llm_in_flight: Gauge = field(default_factory=lambda: Gauge(
        "spotter_llm_requests_in_flight", "LLM requests currently open."))
    turns: Counter = field(default_factory=lambda: Counter(
        "spotter_turns_total", "Turns finished, by outcome.", "outcome"))
    checkpoints: Counter = field(default_factory=lambda: Counter(
        "spotter_checkpoints_total", "Checkpoint events sent, by reason.", "reason"))
    replays: Counter = field(default_factory=lambda: Counter(
        "spotter_replays_total", "Turns replayed or joined instead of run again."))
    responses: Counter = field(default_factory=lambda: Counter(
        "spotter_http_responses_total", "HTTP responses, by status code.", "status"))
    time_to_first_event: Histogram = field(default_factory=lambda: Histogram(
        "spotter_time_to_first_event_seconds", "From request to the first event of a new turn."))
    sampled: list[tuple[str, str, SampledGauge]] = field(default_factory=list)

    def sample(self, prefix: str, help: str, source: SampledGauge) -> None:
        """Register gauges read at scrape time: `source()` returns `{suffix: value}`."""
        self.sampled.append((prefix, help, source))

    async def render(self) -> str:
        lines: list[str] = []
        for prefix, help, source in self.sampled:
            for suffix, value in (await source()).items():
                name = f"{prefix}_{suffix}"
                lines += [f"# HELP {name} {help} ({suffix})", f"# TYPE {name} gauge", f"{name} {_number(value)}"]
        for metric in (self.open_streams, self.running_turns, self.llm_in_flight, self.turns,
                       self.checkpoints, self.replays, self.responses, self.time_to_first_event):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


def _labels(label: str | None, value: str) -> str:
    if label is None:
        return ""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{{{label}="{escaped}"}}'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def python_heap() -> dict[str, float]:
    """Memory blocks Python's allocator has handed out and not had back (a sampled gauge).

    Unlike RSS it falls when objects are freed, so a long run can tell a leak (blocks keep
    growing) from the pages the allocator keeps after a peak of open streams (RSS stays up).
    """
    return {"allocated_blocks": float(sys.getallocatedblocks())}
