"""Make sure the Debian packages a test needs are installed: install them as root, else say which.

Tests start real components (redis-server, PostgreSQL, Chromium). On CI and developer machines
running as root the missing ones are installed with apt-get (one `apt-get update` first);
otherwise the test fails with the package name to install.

Also a command: `python -m tests.support.system_packages redis-server chromium ...` installs
every named package in one apt-get run (what `make test` does up front).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["PACKAGES", "ensure_binary", "ensure_packages"]

#: Debian package -> a binary that proves it is installed.
PACKAGES = {
    "redis-server": "/usr/bin/redis-server",
    "chromium": "/usr/bin/chromium",
    "postgresql": "/usr/lib/postgresql/15/bin/postgres",
}

_updated = False


def _missing(packages: list[str]) -> list[str]:
    return [p for p in packages if not Path(PACKAGES.get(p, "")).exists() and shutil.which(p) is None]


def ensure_packages(packages: list[str]) -> None:
    """Install the missing packages (root), or raise RuntimeError naming them."""
    global _updated
    missing = _missing(packages)
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(
            f"missing system packages: {' '.join(missing)}; install them with "
            f"`sudo apt-get update && sudo apt-get install -y {' '.join(missing)}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _updated:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdin=subprocess.DEVNULL)
        _updated = True
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing],
        check=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    still = _missing(missing)
    if still:
        raise RuntimeError(f"apt-get did not install: {' '.join(still)}")


def ensure_binary(package: str) -> str:
    """The path of the package's binary, installing the package first if needed."""
    ensure_packages([package])
    binary = PACKAGES[package]
    return binary if Path(binary).exists() else shutil.which(package) or binary


if __name__ == "__main__":
    try:
        ensure_packages(sys.argv[1:])
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"system packages: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"system packages present: {' '.join(sys.argv[1:])}")
