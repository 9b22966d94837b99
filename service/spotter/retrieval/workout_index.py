"""Keeps a user's workout namespace in step with their log: embed on create, remove on delete.

Each workout is one vector in `workout_namespace(user_id)`, id = the workout's UUID, so only
that user's searches can ever see it and erasing the user is one namespace delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from spotter.retrieval.vector_store import VectorRecord, VectorStore, workout_namespace
from spotter.workouts.model import Workout, workout_document_text

__all__ = ["date_number", "erase_user", "index_workout", "remove_workouts", "workout_record"]


class _Embedder(Protocol):
    async def embed_async(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> npt.NDArray[np.float32]: ...


def date_number(workout: Workout) -> int:
    """The workout's date as yyyymmdd, a number so stores can filter by range ($gte/$lte)."""
    day = workout.date
    return day.year * 10_000 + day.month * 100 + day.day


def workout_record(workout: Workout, vector: npt.NDArray[np.float32]) -> VectorRecord:
    """The vector record of a workout: metadata title, text, date (yyyymmdd), source."""
    return VectorRecord(
        id=workout.id,
        vector=vector,
        metadata={
            "title": workout.title,
            "text": workout_document_text(workout),
            "date": date_number(workout),
            "source": "workout",
        },
    )


async def index_workout(
    store: VectorStore, embedder: _Embedder, user_id: str, workout: Workout
) -> None:
    """Embed `workout` (off the event loop) into the user's namespace; replaces by id."""
    vectors = await embedder.embed_async([workout_document_text(workout)])
    await store.upsert(workout_namespace(user_id), [workout_record(workout, vectors[0])])


async def remove_workouts(store: VectorStore, user_id: str, ids: Sequence[str]) -> None:
    """Drop these workouts' vectors from the user's namespace; unknown ids are ignored."""
    if ids:
        await store.delete(workout_namespace(user_id), list(ids))


async def erase_user(store: VectorStore, user_id: str) -> None:
    """Remove every workout vector of the user."""
    await store.delete_namespace(workout_namespace(user_id))
