"""The workout log's storage interface, which the SQLite and PostgreSQL repositories implement.

Every method takes the owner's `user_id` and every query is scoped by it: a user can never read,
list or delete another user's workout, even by id. A database that cannot be reached raises
`spotter.errors.DatabaseUnavailable` (a `BackendUnavailable`); driver exceptions never escape.
"""

from __future__ import annotations

import builtins
from datetime import date
from typing import Protocol

from spotter.workouts.model import Workout, WorkoutInput
from spotter.workouts.paging import DEFAULT_LIMIT, WorkoutPage

__all__ = ["DEFAULT_RANGE_LIMIT", "WorkoutRepository"]

#: How many workouts `in_range` returns at most (the newest in the range).
DEFAULT_RANGE_LIMIT = 500


class WorkoutRepository(Protocol):
    """A user-scoped store of logged workouts."""

    async def create(self, user_id: str, workout: WorkoutInput) -> Workout:
        """Store `workout` with a new UUID and the current UTC time as `created_at`."""
        ...

    async def get(self, user_id: str, workout_id: str) -> Workout | None:
        """The user's workout with this id, or None (also for ids that are not UUIDs)."""
        ...

    async def list(
        self,
        user_id: str,
        *,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> WorkoutPage:
        """A page of the user's log, newest first by (date, created_at, id), dates inclusive.

        Raises `InvalidCursor` (a ValueError) for a cursor this service did not make and
        ValueError for a limit outside 1..100.
        """
        ...

    async def delete(self, user_id: str, workout_id: str) -> bool:
        """Remove the user's workout; False if the user has no workout with this id."""
        ...

    async def delete_all(self, user_id: str) -> builtins.list[str]:
        """Remove every workout of the user; the ids removed (to erase their embeddings too)."""
        ...

    async def in_range(
        self, user_id: str, date_from: date, date_to: date, *, limit: int = DEFAULT_RANGE_LIMIT
    ) -> builtins.list[Workout]:
        """The user's workouts dated within the inclusive range, oldest first.

        At most `limit` of them: the newest ones when the range holds more.
        """
        ...

    async def ping(self) -> bool:
        """Whether the database answers (for readiness); never raises."""
        ...

    async def close(self) -> None:
        """Release the connection(s); safe to call twice."""
        ...
