"""Start the real Spotter service (`spotter serve`) on a free loopback port for a test, stop it by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["TEST_SECRET", "ServiceFactory", "ServiceProcess", "free_port"]

TEST_SECRET = "test-secret-with-at-least-thirty-two-bytes!"
STARTUP_SECONDS = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """`spotter serve` in a subprocess with its own data directory (seeded from a built index)."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None, *, seed_index: Path | None = None):
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SPOTTER_", "ANTHROPIC_", "PINECONE_"))},
            "SPOTTER_ENV": "production",
            "SPOTTER_AUTH_SECRET": TEST_SECRET,
            "SPOTTER_DATA_DIR": str(data_dir),
            "SPOTTER_RATE_LIMIT_PER_MINUTE": "100000",
            "SPOTTER_MAX_STREAMS_PER_USER": "1000",
            "SPOTTER_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.seed_index = seed_index
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "service.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.seed_index is not None and not (self.data_dir / "index.json").exists():
            shutil.copytree(self.seed_index, self.data_dir, dirs_exist_ok=True)
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "spotter", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"service did not start within {STARTUP_SECONDS} s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def terminate(self) -> None:
        """Send SIGTERM (graceful drain) without waiting."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, wait, then SIGKILL if needed; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


ServiceFactory = Callable[..., ServiceProcess]
