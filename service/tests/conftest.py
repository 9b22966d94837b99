"""Fixtures shared by every test suite: the one pre-built knowledge index.

Embedding the knowledge base costs minutes on two cores, so it happens once: the index is
built by the real `spotter index` command into a cache folder named by the index fingerprint
(knowledge files + model + passage scheme), and every service a test starts gets a copy.
A later run with unchanged knowledge reuses it; CI's fresh machine builds it once.
`catalogue_index` does the same for the knowledge index plus the public free-exercise-db
catalogue, ingested by the real `spotter ingest` (about 70 s on two cores, once per cache).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.index_cache import cached_catalogue_index, cached_knowledge_index

pytest_plugins = ["tests.retrieval_fixtures"]


@pytest.fixture(scope="session")
def built_index() -> Path:
    """A data directory holding a fresh knowledge index (read-only: copy it before writing)."""
    return cached_knowledge_index()


@pytest.fixture(scope="session")
def catalogue_index(built_index: Path) -> Path:
    """`built_index` plus free-exercise-db ingested with the real `spotter ingest` command into
    the same data directory (vectors and source record), as an operator would (read-only)."""
    return cached_catalogue_index(built_index)
