"""Starts a real, throwaway PostgreSQL server for tests, one per test session.

The server runs from Debian's PostgreSQL binaries in a temporary directory: it listens on
127.0.0.1 on a free port (and a Unix socket in that directory), trusts local connections, and
skips fsync, so start-up takes about a second. `initdb` refuses to run as root, so under root
the server runs as the `postgres` system user. It is stopped by its PID.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import psycopg

__all__ = ["DEBIAN_PACKAGE", "PostgresServer", "find_postgres_binaries", "start_postgres_server"]

DEBIAN_PACKAGE = "postgresql"  # on Debian 12 it installs PostgreSQL 15
_PREFERRED = Path("/usr/lib/postgresql/15/bin")
_START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


@dataclass
class PostgresServer:
    """A running server; `url()` connects as the superuser `postgres` without a password."""

    port: int
    base_dir: Path
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.base_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for `database`."""
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def create_schema(self) -> str:
        """A new empty schema in the `postgres` database; returns a URL whose connections use it.

        Much faster than a new database (milliseconds, where CREATE DATABASE takes up to a
        second on a busy machine), and just as empty for code that names no schema.
        """
        name = f"spotter_test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def drop_schema(self, url: str) -> None:
        """Drop the schema a `create_schema` URL uses, with everything in it."""
        name = url.rsplit("%3D", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def create_database(self) -> str:
        """A new empty database with a unique name; returns its URL."""
        name = f"spotter_test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database `url` names, disconnecting its sessions (if it still exists)."""
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server by its PID, then remove its directory."""
        self.terminate()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def terminate(self) -> None:
        """Fast shutdown by PID (SIGINT: abort sessions, exit), a kill if that hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def find_postgres_binaries() -> Path:
    """The directory holding working `initdb` and `postgres`, installing them if root may.

    Raises RuntimeError naming the Debian package when they are missing and cannot be
    installed here.
    """
    found = _working_bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, postgres) were not found; install the Debian "
            f"package {DEBIAN_PACKAGE!r} (apt-get install {DEBIAN_PACKAGE}) to run these tests"
        )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=environment)
    subprocess.run(["apt-get", "install", "-y", DEBIAN_PACKAGE], check=True, env=environment)
    found = _working_bin_dir()
    if found is None:
        raise RuntimeError(f"installed {DEBIAN_PACKAGE!r} but found no working initdb")
    return found


def start_postgres_server(timeout: float = 60.0) -> PostgresServer:
    """initdb a fresh cluster in a temporary directory and start a server on it."""
    bin_dir = find_postgres_binaries()
    owner = _server_user()
    base_dir = Path(tempfile.mkdtemp(prefix="spotter-pg-"))
    try:
        if owner is not None:
            os.chown(base_dir, owner.pw_uid, owner.pw_gid)
        data_dir = base_dir / "data"
        _run_as(
            owner,
            [
                str(bin_dir / "initdb"),
                "--pgdata", str(data_dir),
                "--username", "postgres",
                "--auth", "trust",
                "--encoding", "UTF8",
                "--locale", "C",
                "--no-sync",
                "--no-instructions",
            ],
            cwd=base_dir,
        )  # fmt: skip
        last_error = ""
        for _ in range(_START_ATTEMPTS):
            server = _launch(bin_dir, base_dir, data_dir, owner)
            error = _wait_until_ready(server, timeout)
            if error is None:
                return server
            server.terminate()
            last_error = error
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise


def _working_bin_dir() -> Path | None:
    candidates = [_PREFERRED]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    for candidate in candidates:
        initdb, postgres = candidate / "initdb", candidate / "postgres"
        if not (os.access(initdb, os.X_OK) and os.access(postgres, os.X_OK)):
            continue
        probe = subprocess.run([str(initdb), "--version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


def _server_user() -> pwd.struct_passwd | None:
    """The account to run as: `postgres` under root (initdb refuses root), else nobody else."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root needs the 'postgres' system user (created by the Debian package "
            f"{DEBIAN_PACKAGE!r}) because initdb refuses to run as root"
        ) from None


def _run_as(owner: pwd.struct_passwd | None, command: list[str], cwd: Path) -> None:
    who = _Identity.of(owner)
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        check=False,
        user=who.user,
        group=who.group,
        extra_groups=who.extra_groups,
        env=who.env,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")
        raise RuntimeError(f"{command[0]} failed ({result.returncode}):\n{output}")


class _Identity(NamedTuple):
    """subprocess arguments that run a command as `owner` (all None: as ourselves)."""

    user: int | None
    group: int | None
    extra_groups: list[int] | None
    env: dict[str, str] | None

    @classmethod
    def of(cls, owner: pwd.struct_passwd | None) -> _Identity:
        if owner is None:
            return cls(None, None, None, None)
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": owner.pw_dir}
        return cls(owner.pw_uid, owner.pw_gid, [], environment)


def _launch(bin_dir: Path, base_dir: Path, data_dir: Path, owner: pwd.struct_passwd | None) -> PostgresServer:
    port = _free_port()
    who = _Identity.of(owner)
    with (base_dir / "postgres.log").open("ab") as log:
        process = subprocess.Popen(
            [
                str(bin_dir / "postgres"),
                "-D", str(data_dir),
                "-h", "127.0.0.1",
                "-p", str(port),
                "-k", str(base_dir),
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ],
            cwd=base_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=who.user,
            group=who.group,
            extra_groups=who.extra_groups,
            env=who.env,
        )  # fmt: skip
    return PostgresServer(port=port, base_dir=base_dir, process=process)


def _wait_until_ready(server: PostgresServer, timeout: float) -> str | None:
    """None once the server accepts connections; otherwise why it did not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return f"exited with {server.process.returncode}: {_tail(server.log_path)}"
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return None
        except psycopg.OperationalError:
            time.sleep(0.05)
    return f"not accepting connections after {timeout:.0f} s: {_tail(server.log_path)}"


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
