"""Indexes built once per machine, shared by the test session and the benchmarks.

Embedding the knowledge base costs about a minute on two cores, so the real `spotter index`
command builds it once into a cache folder named by the index fingerprint (knowledge files,
model, passage scheme); a later run with unchanged knowledge reuses it. The tests' catalogue
index is cached the same way (`cached_build`). `SPOTTER_TEST_CACHE` moves the cache (CI gives
each run a fresh one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.index import index_fingerprint
from spotter.settings import Settings

__all__ = ["CACHE_ROOT", "cached_build", "cached_knowledge_index", "run_spotter"]

CACHE_ROOT = Path(os.environ.get("SPOTTER_TEST_CACHE", Path.home() / ".cache" / "spotter-tests"))


def cached_build(directory: Path, build: Callable[[Path], None]) -> Path:
    """`directory`, reused when it holds an `index.json`, else filled by `build` in a
    `.building` twin that is renamed only when done (an interrupted build is never reused)."""
    if (directory / "index.json").exists():
        return directory
    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    build(building)
    shutil.rmtree(directory, ignore_errors=True)
    building.rename(directory)
    return directory


def run_spotter(*args: str, data_dir: Path) -> None:
    """Run the real `spotter` command line on `data_dir` (development settings)."""
    subprocess.run(
        [sys.executable, "-m", "spotter", *args],
        check=True,
        env={**os.environ, "SPOTTER_ENV": "development", "SPOTTER_DATA_DIR": str(data_dir)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


def cached_knowledge_index() -> Path:
    """A data directory holding a fresh knowledge index (read-only: copy it before writing)."""
    settings = Settings.from_env({"SPOTTER_ENV": "development", "SPOTTER_DATA_DIR": str(CACHE_ROOT / "probe")})
    directory = CACHE_ROOT / f"index-{index_fingerprint(settings, Embedder())[:16]}"
    return cached_build(directory, lambda building: run_spotter("index", data_dir=building))
