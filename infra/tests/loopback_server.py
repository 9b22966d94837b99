"""Runs a server command on a free 127.0.0.1 port, waits for its health URL and stops it by PID.

The infra tests start the exact commands the Dockerfiles' CMD lines name, so the helpers keep
the server's output in a log file and quote its tail when the server dies or never gets healthy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["free_port", "log_tail", "start_server", "stop_by_pid", "wait_for_ok"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start `argv` with exactly `env` (nothing inherited), its output appended to `log`."""
    with log.open("ab") as sink:
        return subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)


def wait_for_ok(url: str, process: subprocess.Popen[bytes], *, log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; AssertionError (with the log tail) on exit or timeout."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode} before {url} answered 200\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http loopback
                if response.status == 200:
                    return
                last_error = f"status {response.status}"
        except urllib.error.HTTPError as error:
            last_error = f"status {error.code}"
        except OSError as error:
            last_error = str(error)
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer 200 within {timeout:.0f} s ({last_error})\n{log_tail(log)}")


def stop_by_pid(process: subprocess.Popen[bytes], *, grace: float) -> int | None:
    """SIGTERM the process by its PID and wait up to `grace` seconds.

    Returns its exit code, or None if it had to be killed (SIGKILL) because it outlived `grace`.
    """
    if process.poll() is not None:
        return process.returncode
    os.kill(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        return None


def log_tail(log: Path, lines: int = 40) -> str:
    """The last lines of a server log, for failure messages."""
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
