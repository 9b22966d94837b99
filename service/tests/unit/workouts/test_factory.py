"""The settings choose the database: SQLite in the data directory unless a PostgreSQL URL is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotter.errors import ConfigurationError
from spotter.settings import Settings
from spotter.workouts.factory import open_workout_repository
from spotter.workouts.postgres_repository import PostgresWorkoutRepository
from spotter.workouts.sqlite_repository import SqliteWorkoutRepository
from tests.support.postgres_server import PostgresServer


async def test_sqlite_in_the_data_dir_by_default(tmp_path: Path) -> None:
    repository = await open_workout_repository(Settings(data_dir=tmp_path))
    try:
        assert isinstance(repository, SqliteWorkoutRepository)
        assert (tmp_path / "spotter.db").is_file()
    finally:
        await repository.close()


async def test_postgresql_when_a_database_url_is_set(tmp_path: Path, postgres_server: PostgresServer) -> None:
    url = postgres_server.create_schema()
    repository = await open_workout_repository(Settings(data_dir=tmp_path, database_url=url))
    try:
        assert isinstance(repository, PostgresWorkoutRepository)
        assert await repository.ping() is True
        assert not (tmp_path / "spotter.db").exists()
    finally:
        await repository.close()
        postgres_server.drop_schema(url)


async def test_a_url_of_another_database_is_a_configuration_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="mysql://db/spotter")
    with pytest.raises(ConfigurationError, match="SPOTTER_DATABASE_URL"):
        await open_workout_repository(settings)
