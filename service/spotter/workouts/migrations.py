"""The workout log's schema, as numbered migrations for SQLite and PostgreSQL.

Each repository applies the pending migrations at start-up inside one write transaction that
also records them in `schema_version`, so starting twice (or two workers at once) applies each
migration exactly once. A change to the schema is a new migration appended here with both
dialects' statements; applied migrations are never edited.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from spotter.errors import ConfigurationError

__all__ = ["MIGRATIONS", "POSTGRES", "SQLITE", "Dialect", "Migration", "pending_migrations"]

DialectName = Literal["sqlite", "postgres"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The bookkeeping statements of one SQL dialect (placeholders differ)."""

    name: DialectName
    create_schema_version: str
    applied_versions: str
    record_version: str  # parameters: version, name


SQLITE = Dialect(
    name="sqlite",
    create_schema_version=(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    ),
    applied_versions="SELECT version FROM schema_version ORDER BY version",
    record_version="INSERT INTO schema_version (version, name) VALUES (?, ?)",
)

POSTGRES = Dialect(
    name="postgres",
    create_schema_version=(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    ),
    applied_versions="SELECT version FROM schema_version ORDER BY version",
    record_version="INSERT INTO schema_version (version, name) VALUES (%s, %s)",
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change, written once per dialect."""

    version: int
    name: str
    statements: Mapping[DialectName, tuple[str, ...]]

    def for_dialect(self, dialect: Dialect) -> tuple[str, ...]:
        """The statements that apply this migration in `dialect`."""
        return self.statements[dialect.name]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        name="create workouts",
        statements={
            "sqlite": (
                "CREATE TABLE workouts ("
                " id TEXT PRIMARY KEY,"
                " user_id TEXT NOT NULL,"
                " workout_date TEXT NOT NULL,"
                " title TEXT NOT NULL,"
                " notes TEXT NOT NULL DEFAULT '',"
                " sets TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(sets)),"
                " created_at_us INTEGER NOT NULL)",
                # Serves every query: all are per user and in (or against) list order.
                "CREATE INDEX workouts_user_newest ON workouts"
                " (user_id, workout_date DESC, created_at_us DESC, id DESC)",
            ),
            "postgres": (
                "CREATE TABLE workouts ("
                " id uuid PRIMARY KEY,"
                " user_id text NOT NULL,"
                " workout_date date NOT NULL,"
                " title text NOT NULL,"
                " notes text NOT NULL DEFAULT '',"
                " sets jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(sets) = 'array'),"
                " created_at timestamptz NOT NULL)",
                "CREATE INDEX workouts_user_newest ON workouts (user_id, workout_date DESC, created_at DESC, id DESC)",
            ),
        },
    ),
)


def pending_migrations(applied: Collection[int]) -> tuple[Migration, ...]:
    """The migrations not yet in `applied`, in order.

    Raises ConfigurationError when the database records a version this code does not know: it
    was migrated by a newer Spotter, and running older code against it could corrupt it.
    """
    known = {m.version for m in MIGRATIONS}
    unknown = sorted(set(applied) - known)
    if unknown:
        raise ConfigurationError(
            f"the workout database has schema version {unknown[-1]}, newer than this Spotter "
            f"knows ({max(known)}); upgrade Spotter or point SPOTTER_DATABASE_URL / "
            "SPOTTER_DATA_DIR at another database"
        )
    return tuple(m for m in MIGRATIONS if m.version not in applied)
