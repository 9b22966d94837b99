"""What only the SQLite repository promises: its file, WAL mode, and sharing it between workers."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from spotter.errors import BackendUnavailable
from spotter.workouts.model import WorkoutInput
from spotter.workouts.sqlite_repository import SqliteWorkoutRepository


async def test_the_database_is_a_wal_file_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    repository = await SqliteWorkoutRepository.open(data_dir)
    try:
        assert repository.path == data_dir / "spotter.db"
        with closing(sqlite3.connect(repository.path)) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        await repository.close()


async def test_two_workers_can_write_the_same_file_at_once(tmp_path: Path) -> None:
    first, second = await asyncio.gather(SqliteWorkoutRepository.open(tmp_path), SqliteWorkoutRepository.open(tmp_path))
    try:
        body = WorkoutInput(date=date(2026, 11, 18), title="Session")
        created = await asyncio.gather(*(worker.create("user", body) for _ in range(20) for worker in (first, second)))
        seen = await first.list("user", limit=100)
        assert {w.id for w in seen.items} == {w.id for w in created}
    finally:
        await first.close()
        await second.close()


async def test_a_corrupt_file_is_unavailable_not_a_driver_error(tmp_path: Path) -> None:
    (tmp_path / "spotter.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackendUnavailable) as raised:
        await SqliteWorkoutRepository.open(tmp_path)
    assert isinstance(raised.value.__cause__, sqlite3.DatabaseError)
