"""Starts a real, throwaway `redis-server` for tests, and can stop and restart it on the same port.

The server comes from the Debian package (installed on demand by `system_packages`), listens on
127.0.0.1 on a free port, persists nothing (`--save "" --appendonly no`) and runs in a temporary
directory. It is stopped by its PID. `stop()` then `start()` brings the same address back empty,
which is what a Redis restart looks like to the service.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.system_packages import ensure_binary

__all__ = ["DEBIAN_PACKAGE", "RedisServer", "start_redis_server"]

DEBIAN_PACKAGE = "redis-server"
_START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


@dataclass
class RedisServer:
    """A redis-server process; `url(db)` addresses one of its databases."""

    binary: str
    port: int
    base_dir: Path
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        return self.base_dir / "redis.log"

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> None:
        """Run the server on this port; returns once it answers PING. Raises RuntimeError if not."""
        if self.process is not None and self.process.poll() is None:
            return
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--bind", self.host,
                    "--port", str(self.port),
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", str(self.base_dir),
                    "--daemonize", "no",
                    "--protected-mode", "yes",
                ],
                cwd=self.base_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        error = self._wait_until_ready(timeout)
        if error is not None:
            self.terminate()
            raise RuntimeError(f"redis-server did not start on port {self.port}: {error}")

    def terminate(self) -> None:
        """Stop the process by its PID (SIGTERM, a kill if that hangs); the port is free after."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop the server and remove its directory (the end of its life)."""
        self.terminate()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def _wait_until_ready(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                return f"exited with {code}: {_tail(self.log_path)}"
            if _answers_ping(self.host, self.port):
                return None
            time.sleep(0.02)
        return f"no answer to PING after {timeout:.0f} s: {_tail(self.log_path)}"


def start_redis_server() -> RedisServer:
    """A running server on a free loopback port, in a fresh temporary directory."""
    binary = ensure_binary(DEBIAN_PACKAGE)
    base_dir = Path(tempfile.mkdtemp(prefix="spotter-redis-"))
    last_error: RuntimeError | None = None
    for _ in range(_START_ATTEMPTS):
        server = RedisServer(binary, _free_port(), base_dir)
        try:
            server.start()
        except RuntimeError as error:
            last_error = error
            continue
        return server
    shutil.rmtree(base_dir, ignore_errors=True)
    raise RuntimeError(f"redis-server did not start: {last_error}")


def _answers_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
