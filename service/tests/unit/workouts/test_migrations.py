"""The migration list is well formed, and a database from a newer Spotter is refused."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from spotter.errors import ConfigurationError
from spotter.workouts.migrations import MIGRATIONS, SQLITE, pending_migrations
from spotter.workouts.sqlite_repository import SqliteWorkoutRepository


def test_versions_count_up_from_one_and_every_dialect_is_written() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    for migration in MIGRATIONS:
        assert set(migration.statements) == {"sqlite", "postgres"}
        assert all(migration.statements.values())


def test_pending_migrations_skip_the_applied_ones() -> None:
    assert pending_migrations(set()) == MIGRATIONS
    assert pending_migrations({m.version for m in MIGRATIONS}) == ()


def test_a_database_migrated_by_a_newer_spotter_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="schema version 99"):
        pending_migrations({1, 99})


async def test_opening_a_newer_sqlite_database_fails_with_a_configuration_error(
    tmp_path: Path,
) -> None:
    with closing(sqlite3.connect(tmp_path / "spotter.db")) as db, db:
        db.execute(SQLITE.create_schema_version)
        db.execute(SQLITE.record_version, (99, "from the future"))
    with pytest.raises(ConfigurationError, match="schema version 99"):
        await SqliteWorkoutRepository.open(tmp_path)
