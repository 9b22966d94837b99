"""The reliability suite's own figures: what its tests did and what went wrong, summed per run.

Tests add to one session-wide `RunFigures`; the conftest writes it to `build/reliability.json`
when the session ends, and `python -m tests.reliability.report` renders it into
`docs/reliability.md`, so the published numbers are always the ones a real run produced.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FIGURES", "REPO_ROOT", "RESULTS_PATH", "RunFigures"]

REPO_ROOT = Path(__file__).resolve().parents[3]
RESULTS_PATH = REPO_ROOT / "build" / "reliability.json"

#: name -> what it counts (the report's row labels, in order). The last five must stay 0.
FIGURES: dict[str, str] = {
    "streams_held": "chat streams opened against real services",
    "clients_disconnected": "clients that dropped mid-request or mid-stream",
    "faults_injected": "faults injected (LLM, vector store, database, Redis, disk, restart)",
    "faults_survived": "faults after which the next turn or request worked",
    "inputs_tried": "malformed or hostile inputs sent",
    "memory_model_steps": "steps of the stateful memory model (both backends)",
    "isolation_probes": "cross-user probes (read, continue, resume, replay, cancel, delete)",
    "turns_lost": "turns lost",
    "duplicate_turns": "duplicate turns",
    "responses_500": "500 responses",
    "cross_user_reads": "cross-user reads",
    "leaked_tasks_or_connections": "leaked tasks, locks or LLM connections",
}


@dataclass
class RunFigures:
    """Thread-safe counters (storm tests count from threads and event loops alike)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: int = 1) -> None:
        if name not in FIGURES:
            raise KeyError(f"unknown figure {name!r}")
        with self._lock:
            self.counts[name] += amount

    def write(self, path: Path, **run: Any) -> None:
        """Write the counts plus facts about the run (outcome, duration, soak) as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            payload = {"run": run, "figures": dict(self.counts)}
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
