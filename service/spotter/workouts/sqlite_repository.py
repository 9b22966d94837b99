"""The workout log in a SQLite file, `<SPOTTER_DATA_DIR>/spotter.db`: the zero-setup default.

A sqlite3 connection belongs to the thread that made it, so each repository owns one dedicated
thread that opens the connection and runs every query; coroutines wait on it without blocking
the event loop. The file is in WAL mode, so several worker processes can share it (readers never
wait for the writer; writers wait up to the busy timeout for each other).
"""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TypeVar

from spotter.errors import BackendUnavailable, DatabaseUnavailable
from spotter.workouts.migrations import SQLITE, pending_migrations
from spotter.workouts.model import Workout, WorkoutInput, canonical_workout_id
from spotter.workouts.paging import (
    DEFAULT_LIMIT,
    WorkoutPage,
    datetime_from_microseconds,
    microseconds_since_epoch,
    page_of,
    page_request,
)
from spotter.workouts.records import Clock, decode_sets, new_workout, utc_now
from spotter.workouts.repository import DEFAULT_RANGE_LIMIT

__all__ = ["DATABASE_FILE", "SqliteWorkoutRepository"]

DATABASE_FILE = "spotter.db"
BUSY_TIMEOUT_SECONDS = 5.0

T = TypeVar("T")
Row = tuple[str, str, str, str, str, int]

_INSERT = (
    "INSERT INTO workouts (id, user_id, workout_date, title, notes, sets, created_at_us) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_GET = "SELECT id, workout_date, title, notes, sets, created_at_us FROM workouts WHERE user_id = ? AND id = ?"
# Keyset paging: rows strictly after the cursor's key in newest-first order.
_PAGE = (
    "SELECT id, workout_date, title, notes, sets, created_at_us FROM workouts"
    " WHERE user_id = ? AND workout_date BETWEEN ? AND ?"
    " AND (workout_date, created_at_us, id) < (?, ?, ?)"
    " ORDER BY workout_date DESC, created_at_us DESC, id DESC LIMIT ?"
)
# The newest `limit` rows of the range, returned oldest first.
_RANGE = (
    "SELECT id, workout_date, title, notes, sets, created_at_us FROM ("
    " SELECT id, workout_date, title, notes, sets, created_at_us FROM workouts"
    " WHERE user_id = ? AND workout_date BETWEEN ? AND ?"
    " ORDER BY workout_date DESC, created_at_us DESC, id DESC LIMIT ?)"
    " ORDER BY workout_date, created_at_us, id"
)
_DELETE = "DELETE FROM workouts WHERE user_id = ? AND id = ?"
_DELETE_ALL = "DELETE FROM workouts WHERE user_id = ? RETURNING id"


class SqliteWorkoutRepository:
    """A `WorkoutRepository` on one SQLite file; build it with `await ....open(data_dir)`."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self._path = path
        self._clock = clock
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spotter-sqlite")
        self._connection: sqlite3.Connection | None = None  # touched only on self._thread
        self._closed = False

    @classmethod
    async def open(cls, data_dir: Path, *, clock: Clock = utc_now) -> SqliteWorkoutRepository:
        """Open (creating if needed) `<data_dir>/spotter.db` and apply pending migrations.

        Raises DatabaseUnavailable if the directory or file cannot be created or opened.
        """
        repository = cls(data_dir / DATABASE_FILE, clock)
        try:
            await repository._call(lambda _: None)  # connects and migrates on the thread
        except BaseException:
            await repository.close()
            raise
        return repository

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    async def create(self, user_id: str, workout: WorkoutInput) -> Workout:
        stored, sets = new_workout(workout, self._clock)
        row = (
            stored.id,
            user_id,
            stored.date.isoformat(),
            stored.title,
            stored.notes,
            sets,
            microseconds_since_epoch(stored.created_at),
        )
        await self._call(lambda db: db.execute(_INSERT, row))
        return stored

    async def get(self, user_id: str, workout_id: str) -> Workout | None:
        canonical = canonical_workout_id(workout_id)
        if canonical is None:
            return None
        row = await self._call(lambda db: db.execute(_GET, (user_id, canonical)).fetchone())
        return None if row is None else _workout(row)

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
            request.date_from.isoformat(),
            request.date_to.isoformat(),
            after.date.isoformat(),
            microseconds_since_epoch(after.created_at),
            after.id,
            request.limit + 1,
        )
        rows = await self._call(lambda db: db.execute(_PAGE, params).fetchall())
        return page_of([_workout(row) for row in rows], request.limit)

    async def delete(self, user_id: str, workout_id: str) -> bool:
        canonical = canonical_workout_id(workout_id)
        if canonical is None:
            return False
        deleted = await self._call(lambda db: db.execute(_DELETE, (user_id, canonical)).rowcount)
        return deleted > 0

    async def delete_all(self, user_id: str) -> builtins.list[str]:
        rows = await self._call(lambda db: db.execute(_DELETE_ALL, (user_id,)).fetchall())
        return [row[0] for row in rows]

    async def in_range(
        self, user_id: str, date_from: date, date_to: date, *, limit: int = DEFAULT_RANGE_LIMIT
    ) -> builtins.list[Workout]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        params = (user_id, date_from.isoformat(), date_to.isoformat(), limit)
        rows = await self._call(lambda db: db.execute(_RANGE, params).fetchall())
        return [_workout(row) for row in rows]

    async def ping(self) -> bool:
        try:
            await self._call(lambda db: db.execute("SELECT 1").fetchone())
        except BackendUnavailable:
            return False
        return True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._disconnect)
        finally:
            # Every job queued before the close has run (the queue is FIFO): this does not wait.
            self._thread.shutdown(wait=True)

    async def _call(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run `query` on the database thread; driver and OS errors become DatabaseUnavailable."""
        if self._closed:
            raise DatabaseUnavailable("the workout database is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, self._run, query)
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseUnavailable(f"SQLite workout database {self._path}: {exc}") from exc

    def _run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        if self._connection is None:
            self._connection = _connect(self._path)
        return query(self._connection)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _connect(path: Path) -> sqlite3.Connection:
    """Open the file, enable WAL and migrate (on the database thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; writes that need one say BEGIN.
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        mode = _enable_wal(connection)
        if mode != "wal":
            raise sqlite3.OperationalError(f"cannot enable WAL mode (journal_mode is {mode})")
        connection.execute("PRAGMA synchronous = NORMAL")
        _migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _enable_wal(connection: sqlite3.Connection) -> str:
    """Switch to WAL, retrying while another process holds the lock the switch needs.

    SQLite answers "database is locked" at once here instead of calling the busy handler when
    another connection is mid-write (it would otherwise risk a deadlock), so the timeout given to
    `connect` does not cover it.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            (mode,) = connection.execute("PRAGMA journal_mode = WAL").fetchone()
            return str(mode)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _migrate(connection: sqlite3.Connection) -> None:
    with _write_transaction(connection):
        connection.execute(SQLITE.create_schema_version)
        applied = {version for (version,) in connection.execute(SQLITE.applied_versions)}
        for migration in pending_migrations(applied):
            for statement in migration.for_dialect(SQLITE):
                connection.execute(statement)
            connection.execute(SQLITE.record_version, (migration.version, migration.name))


@contextmanager
def _write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, so concurrent migrators queue instead of racing.
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _workout(row: Row) -> Workout:
    workout_id, day, title, notes, sets, created_at_us = row
    return Workout(
        id=workout_id,
        date=date.fromisoformat(day),
        title=title,
        notes=notes,
        sets=decode_sets(sets),
        created_at=datetime_from_microseconds(created_at_us),
    )
