"""What only the PostgreSQL repository promises: it survives lost connections and says when the
server is gone."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from spotter.errors import BackendUnavailable, ConfigurationError
from spotter.workouts.model import WorkoutInput
from spotter.workouts.postgres_repository import PostgresWorkoutRepository
from tests.support.postgres_server import PostgresServer

SESSION = WorkoutInput(date=date(2026, 11, 18), title="Session")


def terminate_sessions(server: PostgresServer, database: str) -> int:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = 'spotter'",
            (database,),
        ).fetchall()
    return len(rows)


async def test_connections_killed_by_the_server_are_replaced(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database()
    repository = await PostgresWorkoutRepository.open(url)
    try:
        created = await repository.create("user", SESSION)
        assert terminate_sessions(postgres_server, url.rsplit("/", 1)[1]) == 1

        assert await repository.get("user", created.id) == created
        assert await repository.ping() is True
    finally:
        await repository.close()
        postgres_server.drop_database(url)


async def test_a_vanished_database_is_unavailable_and_pings_false(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database()
    repository = await PostgresWorkoutRepository.open(url)
    try:
        await repository.create("user", SESSION)
        postgres_server.drop_database(url)  # also ends the repository's sessions

        with pytest.raises(BackendUnavailable) as raised:
            await repository.list("user")
        assert isinstance(raised.value.__cause__, psycopg.Error)
        assert "postgres@" not in str(raised.value)
        assert await repository.ping() is False
    finally:
        await repository.close()


async def test_a_url_with_a_password_never_shows_it(postgres_server: PostgresServer) -> None:
    url = f"postgresql://postgres:s3cret-pw@127.0.0.1:{postgres_server.port}/no_such_database"
    with pytest.raises(BackendUnavailable) as raised:
        await PostgresWorkoutRepository.open(url)
    assert "s3cret-pw" not in str(raised.value)
    assert "no_such_database" in str(raised.value)


async def test_a_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SPOTTER_DATABASE_URL"):
        await PostgresWorkoutRepository.open("postgresql://%zz")
