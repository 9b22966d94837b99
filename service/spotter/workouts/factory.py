"""Chooses the workout log's database from the settings: PostgreSQL if a URL is set, else SQLite."""

from __future__ import annotations

from urllib.parse import urlparse

from spotter.errors import ConfigurationError
from spotter.settings import Settings
from spotter.workouts.postgres_repository import PostgresWorkoutRepository
from spotter.workouts.repository import WorkoutRepository
from spotter.workouts.sqlite_repository import SqliteWorkoutRepository

__all__ = ["open_workout_repository"]

_POSTGRES_SCHEMES = {"postgres", "postgresql"}


async def open_workout_repository(settings: Settings) -> WorkoutRepository:
    """An open, migrated repository: PostgreSQL at `settings.database_url` if set, otherwise
    SQLite in `settings.data_dir`.

    Raises ConfigurationError for a URL that is not postgresql://, DatabaseUnavailable if the
    database cannot be reached.
    """
    if not settings.database_url:
        return await SqliteWorkoutRepository.open(settings.data_dir)
    scheme = urlparse(settings.database_url).scheme
    if scheme not in _POSTGRES_SCHEMES:
        raise ConfigurationError(f"SPOTTER_DATABASE_URL must be a postgresql:// URL, got scheme {scheme!r}")
    return await PostgresWorkoutRepository.open(settings.database_url)
