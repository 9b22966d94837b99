"""The workout log in PostgreSQL (when SPOTTER_DATABASE_URL is set), for several service replicas.

Queries run on a small pool of async psycopg connections. A connection that died since its last
use is replaced and the operation retried once; every operation is safe to repeat (inserts use
the id made here, so a repeated insert does nothing). Any other failure to reach the server
becomes `DatabaseUnavailable` (a `BackendUnavailable`).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date
from typing import Any, TypeVar

import psycopg

from spotter.errors import BackendUnavailable, DatabaseUnavailable
from spotter.workouts.migrations import POSTGRES, pending_migrations
from spotter.workouts.model import Workout, WorkoutInput, canonical_workout_id
from spotter.workouts.paging import DEFAULT_LIMIT, WorkoutPage, page_of, page_request
from spotter.workouts.postgres_connections import Connection, PostgresConnections
from spotter.workouts.records import Clock, decode_sets, new_workout, utc_now
from spotter.workouts.repository import DEFAULT_RANGE_LIMIT

__all__ = ["PostgresWorkoutRepository"]

T = TypeVar("T")

# Any constant works; it only has to differ from other advisory locks taken on the database.
_MIGRATION_LOCK = 0x5370_6F74  # "Spot"

_INSERT = (
    "INSERT INTO workouts (id, user_id, workout_date, title, notes, sets, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s) ON CONFLICT (id) DO NOTHING"
)
_GET = "SELECT id, workout_date, title, notes, sets::text, created_at FROM workouts WHERE user_id = %s AND id = %s"
# Keyset paging: rows strictly after the cursor's key in newest-first order.
_PAGE = (
    "SELECT id, workout_date, title, notes, sets::text, created_at FROM workouts"
    " WHERE user_id = %s AND workout_date BETWEEN %s AND %s"
    " AND (workout_date, created_at, id) < (%s, %s, %s)"
    " ORDER BY workout_date DESC, created_at DESC, id DESC LIMIT %s"
)
# The newest `limit` rows of the range, returned oldest first.
_RANGE = (
    "SELECT id, workout_date, title, notes, sets, created_at FROM ("
    " SELECT id, workout_date, title, notes, sets::text, created_at FROM workouts"
    " WHERE user_id = %s AND workout_date BETWEEN %s AND %s"
    " ORDER BY workout_date DESC, created_at DESC, id DESC LIMIT %s) AS newest"
    " ORDER BY workout_date, created_at, id"
)
_DELETE = "DELETE FROM workouts WHERE user_id = %s AND id = %s"
_DELETE_ALL = "DELETE FROM workouts WHERE user_id = %s RETURNING id"


class PostgresWorkoutRepository:
    """A `WorkoutRepository` on PostgreSQL; build it with `await ....open(url)`."""

    def __init__(self, connections: PostgresConnections, clock: Clock) -> None:
        self._connections = connections
        self._clock = clock

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        pool_size: int = 4,
        connect_timeout: float = 5.0,
        clock: Clock = utc_now,
    ) -> PostgresWorkoutRepository:
        """Connect to `url` and apply pending migrations.

        Raises DatabaseUnavailable if the server cannot be reached, ConfigurationError if `url`
        is not a PostgreSQL URL.
        """
        connections = PostgresConnections(url, size=pool_size, connect_timeout=connect_timeout)
        repository = cls(connections, clock)
        try:
            await repository._run(_migrate)
        except BaseException:
            await connections.close()
            raise
        return repository

    async def create(self, user_id: str, workout: WorkoutInput) -> Workout:
        stored, sets = new_workout(workout, self._clock)
        params = (
            uuid.UUID(stored.id),
            user_id,
            stored.date,
            stored.title,
            stored.notes,
            sets,
            stored.created_at,
        )
        await self._run(lambda db: db.execute(_INSERT, params))
        return stored

    async def get(self, user_id: str, workout_id: str) -> Workout | None:
        canonical = canonical_workout_id(workout_id)
        if canonical is None:
            return None
        params = (user_id, uuid.UUID(canonical))
        rows = await self._run(lambda db: _fetch(db, _GET, params))
        return _workout(rows[0]) if rows else None

    async def list(
        self,
        user_id: str,
        *,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> WorkoutPage:
        request = page_request(limit, cursor, date_from, date_to)
        after = request.after
        params = (
            user_id,
            request.date_from,
            request.date_to,
            after.date,
            after.created_at,
            uuid.UUID(after.id),
            request.limit + 1,
        )
        rows = await self._run(lambda db: _fetch(db, _PAGE, params))
        return page_of([_workout(row) for row in rows], request.limit)

    async def delete(self, user_id: str, workout_id: str) -> bool:
        canonical = canonical_workout_id(workout_id)
        if canonical is None:
            return False
        params = (user_id, uuid.UUID(canonical))

        async def delete(db: Connection) -> int:
            return (await db.execute(_DELETE, params)).rowcount

        return await self._run(delete) > 0

    async def delete_all(self, user_id: str) -> builtins.list[str]:
        rows = await self._run(lambda db: _fetch(db, _DELETE_ALL, (user_id,)))
        return [str(row[0]) for row in rows]

    async def in_range(
        self, user_id: str, date_from: date, date_to: date, *, limit: int = DEFAULT_RANGE_LIMIT
    ) -> builtins.list[Workout]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        params = (user_id, date_from, date_to, limit)
        rows = await self._run(lambda db: _fetch(db, _RANGE, params))
        return [_workout(row) for row in rows]

    async def ping(self) -> bool:
        try:
            await self._run(lambda db: _fetch(db, "SELECT 1", ()))
        except BackendUnavailable:
            return False
        return True

    async def close(self) -> None:
        await self._connections.close()

    async def _run(self, operation: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `operation` on a pooled connection, once more on a fresh one if it was lost."""
        for last_attempt in (False, True):
            try:
                async with self._connections.connection() as connection:
                    return await operation(connection)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if last_attempt:
                    raise self._unavailable(exc) from exc
            except psycopg.Error as exc:
                raise self._unavailable(exc) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _unavailable(self, exc: psycopg.Error) -> DatabaseUnavailable:
        return DatabaseUnavailable(f"PostgreSQL at {self._connections.where} failed: {exc}")


async def _fetch(db: Connection, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    cursor = await db.execute(query, params)
    return await cursor.fetchall()


async def _migrate(db: Connection) -> None:
    # One transaction: a second process starting at once waits on the lock, then finds the
    # migrations recorded and applies none. PostgreSQL DDL is transactional, so a failed
    # migration leaves no trace.
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await db.execute(POSTGRES.create_schema_version)
        applied = {version for (version,) in await _fetch(db, POSTGRES.applied_versions, ())}
        for migration in pending_migrations(applied):
            for statement in migration.for_dialect(POSTGRES):
                await db.execute(statement)
            await db.execute(POSTGRES.record_version, (migration.version, migration.name))


def _workout(row: tuple[Any, ...]) -> Workout:
    workout_id, day, title, notes, sets, created_at = row
    return Workout(
        id=str(workout_id),
        date=day,
        title=title,
        notes=notes,
        sets=decode_sets(sets),
        created_at=created_at.astimezone(UTC),
    )
