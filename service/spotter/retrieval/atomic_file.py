"""Replace a file so a crash mid-write leaves the old one whole: temp file, fsync, `os.replace`.

The index state, the local store's namespaces and the ingested-source records are all written
this way; the caller says what goes in the file and whether the rename must be durable too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["replace_atomically", "sync_directory"]


def replace_atomically(path: Path, write: Callable[[BinaryIO], object], *, temp_prefix: str) -> None:
    """Write `path` through `write` into a temporary file beside it, fsync it, then rename it over."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix, suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def sync_directory(folder: Path) -> None:
    """Make a rename in `folder` itself durable: fsync the directory entry."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
