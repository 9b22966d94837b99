"""A disk that fills up while the local vector store persists: the old file survives whole.

The write runs in a child process whose file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) is
below the new file's size, so the kernel refuses the write midway, as a full disk would. The
store must report the failure, leave the previous copy readable and no temporary file behind,
and write the change once space is back.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.reliability.figures import RunFigures

SCRIPT = r"""
import asyncio, pathlib, resource, signal, sys
import numpy as np
from spotter.errors import BackendUnavailable
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.vector_store import VectorRecord

NAMESPACE = "workouts.credentials:1"

def records(start, stop):
    return [VectorRecord(f"w{i}", np.random.default_rng(i).standard_normal(384).astype(np.float32), {"n": i})
            for i in range(start, stop)]

async def main(directory):
    store = LocalVectorStore(directory)
    await store.upsert(NAMESPACE, records(0, 10))
    size = max(p.stat().st_size for p in pathlib.Path(directory).glob("*.npz"))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 1024, hard))
    try:
        await store.upsert(NAMESPACE, records(10, 200))
    except BackendUnavailable as error:
        print("refused:", error)
    else:
        raise SystemExit("the write did not fail")
    print("while full:", len(await LocalVectorStore(directory).query(NAMESPACE, records(0, 1)[0].vector, 1000)))
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    await store.upsert(NAMESPACE, records(200, 201))
    print("after:", len(await LocalVectorStore(directory).query(NAMESPACE, records(0, 1)[0].vector, 1000)))

asyncio.run(main(sys.argv[1]))
"""


def test_a_full_disk_keeps_the_previous_index_and_the_change_is_written_later(
    tmp_path: Path, figures: RunFigures
) -> None:
    service_dir = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=service_dir, capture_output=True,
                            text=True, timeout=120, check=False)
    figures.add("faults_injected")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("refused: cannot write namespace"), lines
    assert lines[1:] == ["while full: 10", "after: 201"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []
    figures.add("faults_survived")
