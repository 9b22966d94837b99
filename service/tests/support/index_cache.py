"""Indexes built once per machine, shared by the test session and the benchmarks.

Embedding the knowledge base costs about a minute on two cores, so the real `spotter index`
command builds it once into a cache folder named by the index fingerprint (knowledge files,
model, passage scheme); a later run with unchanged knowledge reuses it. The tests' catalogue
index is cached the same way (`cached_build`). `SPOTTER_TEST_CACHE` moves the cache (CI gives
each run a fresh one).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.index import index_fingerprint
from spotter.settings import Settings

__all__ = [
    "CACHE_ROOT",
    "FREE_EXERCISE_DB",
    "cached_build",
    "cached_catalogue_index",
    "cached_knowledge_index",
    "run_spotter",
]

CACHE_ROOT = Path(os.environ.get("SPOTTER_TEST_CACHE", Path.home() / ".cache" / "spotter-tests"))
_REPO = Path(__file__).resolve().parents[3]
#: Real external data, read in place (never copied into the project).
FREE_EXERCISE_DB = _REPO / ".." / "shared" / "data" / "free-exercise-db" / "exercises.json"
#: What shapes an ingested catalogue besides the index fingerprint: a change rebuilds the cache.
_CATALOGUE_INPUTS = (
    FREE_EXERCISE_DB,
    _REPO / "service/spotter/retrieval/free_exercise_db.py",
    _REPO / "service/spotter/retrieval/catalogue_descriptions.py",
    _REPO / "service/spotter/knowledge/catalogue_descriptions.yaml",
    _REPO / "service/spotter/retrieval/ingested_sources.py",
    _REPO / "service/spotter/knowledge/vocabulary.yaml",
)


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


def cached_catalogue_index(knowledge_index: Path) -> Path:
    """`knowledge_index` plus free-exercise-db ingested with the real `spotter ingest` into the
    same data directory (vectors and source record), as an operator would (read-only)."""
    digest = hashlib.sha256()
    for path in _CATALOGUE_INPUTS:
        digest.update(path.read_bytes())
    directory = CACHE_ROOT / f"{knowledge_index.name}-fedb-{digest.hexdigest()[:12]}"

    def build(building: Path) -> None:
        shutil.copytree(knowledge_index, building)
        run_spotter("ingest", str(FREE_EXERCISE_DB), "--format", "free-exercise-db", data_dir=building)

    return cached_build(directory, build)
