"""The user's workout log: the model the API speaks and its user-scoped storage.

`open_workout_repository(settings)` returns the repository (SQLite by default, PostgreSQL when
SPOTTER_DATABASE_URL is set); `WorkoutInput` is the create body, `Workout` a stored workout.
"""

from __future__ import annotations

from spotter.workouts.factory import open_workout_repository
from spotter.workouts.model import (
    Load,
    LoadUnit,
    Workout,
    WorkoutInput,
    WorkoutSet,
    canonical_workout_id,
    workout_document_text,
)
from spotter.workouts.paging import DEFAULT_LIMIT, MAX_LIMIT, InvalidCursor, WorkoutPage
from spotter.workouts.repository import DEFAULT_RANGE_LIMIT, WorkoutRepository

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_RANGE_LIMIT",
    "MAX_LIMIT",
    "InvalidCursor",
    "Load",
    "LoadUnit",
    "Workout",
    "WorkoutInput",
    "WorkoutPage",
    "WorkoutRepository",
    "WorkoutSet",
    "canonical_workout_id",
    "open_workout_repository",
    "workout_document_text",
]
