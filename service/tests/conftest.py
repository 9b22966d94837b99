"""Fixtures shared by every test suite: the one pre-built knowledge index.

Embedding the knowledge base costs minutes on two cores, so it happens once: the index is
built by the real `spotter index` command into a cache folder named by the index fingerprint
(knowledge files + model + passage scheme), and every service a test starts gets a copy.
A later run with unchanged knowledge reuses it; CI's fresh machine builds it once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spotter.retrieval.embedding import Embedder
from spotter.retrieval.index import index_fingerprint
from spotter.settings import Settings

pytest_plugins = ["tests.retrieval_fixtures"]

CACHE_ROOT = Path(os.environ.get("SPOTTER_TEST_CACHE", Path.home() / ".cache" / "spotter-tests"))


@pytest.fixture(scope="session")
def built_index() -> Path:
    """A data directory holding a fresh knowledge index (read-only: copy it before writing)."""
    settings = Settings.from_env({"SPOTTER_ENV": "development", "SPOTTER_DATA_DIR": str(CACHE_ROOT / "probe")})
    directory = CACHE_ROOT / f"index-{index_fingerprint(settings, Embedder())[:16]}"
    if (directory / "index.json").exists():
        return directory
    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "spotter", "index", "--data-dir", str(building)],
        check=True,
        env={**os.environ, "SPOTTER_ENV": "development"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    shutil.rmtree(directory, ignore_errors=True)
    building.rename(directory)
    return directory
