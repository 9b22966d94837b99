"""Samples a server under load with py-spy (from the bench venv) and names where its CPU goes.

Used to explain a missed goal: the report lists the hottest functions (own time) and the share
of samples spent inside a few named areas (the embedding model, the web framework, memory).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["AREAS", "record", "summarize"]

#: Inclusive shares reported for each area: a sample counts when any frame's file matches.
AREAS: dict[str, tuple[str, ...]] = {
    "query embedding (MiniLM forward pass)": ("retrieval/embedding.py", "(retrieval.py:"),
    "event-loop thread (all of it, under uvicorn)": ("uvicorn/",),
    "web framework (Litestar; Starlette + FastAPI)": ("litestar/", "starlette/", "fastapi/"),
    "conversation memory": ("spotter/memory/", "langchain", "cachetools"),
    "SSE encoding + turn pipeline": ("spotter/turns/", "(app.py:"),
    "bearer token check": ("jwt/",),
    "Spotter-only work (BM25, passages, answer composition)": (
        "retrieval/lexical.py", "retrieval/passages.py", "llm/offline.py", "retrieval/timeframe.py",
        "retrieval/vocabulary.py", "retrieval/knowledge_bridge.py"),
}


def record(py_spy: Path, pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Start `py-spy record` on `pid` for `seconds` (raw collapsed stacks); the caller waits."""
    return subprocess.Popen(
        [str(py_spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
         "--format", "raw", "--output", str(output), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def summarize(raw: Path, top: int = 8) -> dict[str, Any]:
    """Own-time leaders and per-area inclusive shares from a raw py-spy profile."""
    own: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for area, needles in AREAS.items():
            if any(needle in frame for frame in frames for needle in needles):
                areas[area] += count
    if total == 0:
        return {"samples": 0, "own": [], "areas": {}}
    return {
        "samples": total,
        "own": [{"frame": frame, "share": round(n / total, 3)} for frame, n in own.most_common(top)],
        "areas": {area: round(areas[area] / total, 3) for area in AREAS},
    }
