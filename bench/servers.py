"""Starts the two servers under test on loopback ports, pinned to the server core, and stops them.

Spotter is the real `python -m spotter serve`; the baseline is uvicorn serving `bench/baseline/app.py`
from its own venv with the same uvicorn flags. Both get a private copy of the knowledge index,
built once into the same cache folder the test suite uses (never rebuilt per run).
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.workload import AUTH_SECRET, SERVER_CORE
from spotter.settings import Settings
from tests.support.index_cache import cached_knowledge_index

__all__ = ["BASELINE_PYTHON", "REPO", "Server", "built_index", "ensure_baseline_venv", "raise_fd_limit",
           "stop_process"]

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
BASELINE_VENV = BENCH / ".venv-baseline"
BASELINE_PYTHON = BASELINE_VENV / "bin" / "python"
STARTUP_SECONDS = 180.0
FD_LIMIT = 20_000


def raise_fd_limit() -> int:
    """Raise this process's open-file limit (inherited by children) for thousands of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_LIMIT if hard == resource.RLIM_INFINITY else min(FD_LIMIT, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def built_index() -> Path:
    """The cached, built knowledge index: the one the test session uses."""
    return cached_knowledge_index()


def ensure_baseline_venv() -> Path:
    """Create `bench/.venv-baseline` from the pinned requirements if it is missing or stale."""
    requirements = BENCH / "baseline" / "requirements.txt"
    stamp = BASELINE_VENV / ".requirements"
    if stamp.exists() and stamp.read_text() == requirements.read_text():
        return BASELINE_PYTHON
    subprocess.run(["uv", "venv", "-q", "--allow-existing", "--python", "3.11", str(BASELINE_VENV)],
                   check=True)
    subprocess.run(
        ["uv", "pip", "install", "-q", "--python", str(BASELINE_PYTHON), "-r", str(requirements),
         "--override", str(BENCH / "baseline" / "overrides.txt")],
        check=True,
    )
    stamp.write_text(requirements.read_text())
    return BASELINE_PYTHON


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a server process started here, then kill it if it has not gone within 15 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _spotter_keep_alive() -> float:
    """Spotter's default idle keep-alive (SPOTTER_KEEP_ALIVE_SECONDS), which the baseline gets too."""
    return Settings.from_env({"SPOTTER_ENV": "development"}).keep_alive_seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One server process; `kind` is "spotter" or "baseline"."""

    kind: str
    work_dir: Path
    index: Path
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _command(self) -> tuple[list[str], dict[str, str]]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTTER_", "BASELINE_", "VIRTUAL_ENV"))}
        base["OPENBLAS_NUM_THREADS"] = "1"  # both: one BLAS thread (Spotter also caps it itself)
        port = str(self.port)
        pin = ["taskset", "-c", str(SERVER_CORE)]
        if self.kind == "spotter":
            env = {**base, "SPOTTER_ENV": "production", "SPOTTER_AUTH_SECRET": AUTH_SECRET,
                   "SPOTTER_DATA_DIR": str(self.work_dir / "data"), "SPOTTER_LOG_LEVEL": "WARNING",
                   "SPOTTER_RATE_LIMIT_PER_MINUTE": "10000000", "SPOTTER_MAX_STREAMS_PER_USER": "100000",
                   **self.env}
            return [*pin, sys.executable, "-m", "spotter", "serve", "--host", "127.0.0.1", "--port", port], env
        env = {**base, "BASELINE_AUTH_SECRET": AUTH_SECRET, "BASELINE_DATA_DIR": str(self.work_dir / "data"),
               **self.env}
        command = [*pin, str(BASELINE_PYTHON), "-m", "uvicorn", "app:app", "--app-dir", str(BENCH / "baseline"),
                   "--host", "127.0.0.1", "--port", port, "--workers", "1", "--loop", "uvloop",
                   "--http", "httptools", "--no-access-log", "--log-level", "warning",
                   "--timeout-keep-alive", str(round(_spotter_keep_alive()))]
        return command, env

    def start(self) -> Server:
        data = self.work_dir / "data"
        if not (data / "index.json").exists():
            shutil.copytree(self.index, data, dirs_exist_ok=True)
        command, env = self._command()
        log = (self.work_dir / f"{self.kind}.log").open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not start within {STARTUP_SECONDS} s:\n{self.logs()}")

    def logs(self) -> str:
        path = self.work_dir / f"{self.kind}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def rss_bytes(self) -> int:
        """Resident set size of the server process (not of the `taskset` wrapper: it execs)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        stop_process(self.process)
