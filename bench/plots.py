"""Draws the figures of docs/benchmarks.md from a run's results.json (matplotlib, bench venv only).

Run as `bench/.venv-baseline/bin/python bench/plots.py RESULTS OUTDIR`; `bench.report` calls it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["main"]

COLORS = {"spotter": "#1b7f5f", "baseline": "#b0472a"}
LABELS = {"spotter": "Spotter (Litestar + msgspec)", "baseline": "Baseline (FastAPI + LangChain memory)"}


def _save(figure: Any, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def throughput(results: dict[str, Any], out: Path) -> None:
    rows = results["throughput"]
    levels = [row["concurrency"] for row in rows]
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for side in COLORS:
        axes[0].plot(levels, [r[side]["turns_per_s"] for r in rows], "o-", color=COLORS[side], label=LABELS[side])
        axes[1].plot(levels, [r[side]["events_per_s"] for r in rows], "o-", color=COLORS[side])
        axes[2].plot(levels, [r[side]["ttfe_ms"]["p50"] for r in rows], "o-", color=COLORS[side])
        axes[2].plot(levels, [r[side]["ttfe_ms"]["p99"] for r in rows], "x--", color=COLORS[side])
    for axis, title in zip(axes, ("completed turns/s", "events/s", "TTFE ms (p50 solid, p99 dashed)"), strict=True):
        axis.set_xscale("log")
        axis.set_xticks(levels, [str(level) for level in levels])
        axis.set_xlabel("concurrent streams (pacing 0)")
        axis.set_title(title)
        axis.grid(alpha=0.3)
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=8)
    _save(figure, out / "bench-throughput.png")


def scale(results: dict[str, Any], out: Path) -> None:
    figure, axis = plt.subplots(figsize=(6.5, 3.8))
    for side in COLORS:
        series = results["scale"][side]["rss_series"]
        axis.plot([t for t, _ in series], [mb for _, mb in series], color=COLORS[side], label=LABELS[side])
    axis.set_xlabel("seconds since the first stream opened")
    axis.set_ylabel("server RSS (MB)")
    axis.set_title(f"{results['scale']['spotter']['streams']} open streams, one worker")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    _save(figure, out / "bench-scale-rss.png")


def memory(results: dict[str, Any], out: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for side in COLORS:
        windows = results["memory"][side]["window"]
        axes[0].plot([w["turns"] for w in windows], [w["bytes_per_conversation"] / 1024 for w in windows], "o-",
                     color=COLORS[side], label=LABELS[side])
        samples = results["memory"][side]["sweep"]["samples"]
        axes[1].plot([s["inserted"] for s in samples], [s["rss_mb"] for s in samples], color=COLORS[side])
    axes[0].set_xlabel("turns in the conversation")
    axes[0].set_ylabel("KiB per stored conversation")
    axes[0].set_title("memory per conversation (tracemalloc)")
    axes[1].set_xlabel("conversations created")
    axes[1].set_ylabel("RSS growth (MB)")
    axes[1].set_title(f"RSS with the sweeper on (TTL {results['memory']['spotter']['sweep']['ttl_s']} s)")
    for axis in axes:
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    _save(figure, out / "bench-memory.png")


def retrieval(results: dict[str, Any], out: Path) -> None:
    sizes = results["retrieval"]["sizes"]
    figure, axis = plt.subplots(figsize=(6.5, 3.8))
    axis.plot([s["vectors"] for s in sizes], [s["search_ms"]["p50"] for s in sizes], "o-", color=COLORS["spotter"],
              label="search p50")
    axis.plot([s["vectors"] for s in sizes], [s["search_ms"]["p99"] for s in sizes], "x--", color=COLORS["spotter"],
              label="search p99")
    axis.axhline(results["retrieval"]["embed_ms"]["p50"], color="grey", linestyle=":", label="query embedding p50")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("vectors in the local store")
    axis.set_ylabel("ms per query")
    axis.set_title("Spotter retrieval: LocalVectorStore + Embedder")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    _save(figure, out / "bench-retrieval.png")


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for draw in (throughput, scale, memory, retrieval):
        draw(results, out)


if __name__ == "__main__":
    main()
