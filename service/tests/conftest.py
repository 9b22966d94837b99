"""Fixtures shared by every test suite: the one pre-built knowledge index.

Embedding the knowledge base costs minutes on two cores, so it happens once: the index is
built by the real `spotter index` command into a cache folder named by the index fingerprint
(knowledge files + model + passage scheme), and every service a test starts gets a copy.
A later run with unchanged knowledge reuses it; CI's fresh machine builds it once.
`catalogue_index` does the same for the knowledge index plus the public free-exercise-db
catalogue, ingested by the real `spotter ingest` (about 70 s on two cores, once per cache).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.support.index_cache import CACHE_ROOT, cached_build, cached_knowledge_index, run_spotter

pytest_plugins = ["tests.retrieval_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Real external data, read in place (never copied into the project).
FREE_EXERCISE_DB = REPO_ROOT / ".." / "shared" / "data" / "free-exercise-db" / "exercises.json"
#: What shapes an ingested catalogue besides the index fingerprint: a change rebuilds the cache.
_CATALOGUE_INPUTS = (
    FREE_EXERCISE_DB,
    REPO_ROOT / "service/spotter/retrieval/free_exercise_db.py",
    REPO_ROOT / "service/spotter/retrieval/ingested_sources.py",
    REPO_ROOT / "service/spotter/knowledge/vocabulary.yaml",
)


@pytest.fixture(scope="session")
def built_index() -> Path:
    """A data directory holding a fresh knowledge index (read-only: copy it before writing)."""
    return cached_knowledge_index()


@pytest.fixture(scope="session")
def catalogue_index(built_index: Path) -> Path:
    """`built_index` plus free-exercise-db ingested with the real `spotter ingest` command into
    the same data directory (vectors and source record), as an operator would (read-only)."""
    digest = hashlib.sha256()
    for path in _CATALOGUE_INPUTS:
        digest.update(path.read_bytes())
    directory = CACHE_ROOT / f"{built_index.name}-fedb-{digest.hexdigest()[:12]}"

    def build(building: Path) -> None:
        shutil.copytree(built_index, building)
        run_spotter("ingest", str(FREE_EXERCISE_DB), "--format", "free-exercise-db", data_dir=building)

    return cached_build(directory, build)
