"""A logged workout as the spec defines it, so decoding a request body is its validation.

The constraints live in `msgspec.Meta` on the types: an invalid body cannot become a
`WorkoutInput`, and `msgspec.json.schema` of these structs states the same limits as the spec.
Optional set fields use `UNSET` rather than `None`: the spec makes `load` and `rpe` absent (not
null) when not given, so `null` is rejected on input and absent fields are omitted on output.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from spotter.text_patterns import NOT_BLANK

__all__ = [
    "Load",
    "LoadUnit",
    "Workout",
    "WorkoutInput",
    "WorkoutSet",
    "canonical_workout_id",
    "workout_document_text",
]

LoadUnit = Literal["kg", "lb"]

ExerciseName = Annotated[str, Meta(min_length=1, max_length=200, pattern=NOT_BLANK)]
Title = Annotated[str, Meta(min_length=1, max_length=200, pattern=NOT_BLANK)]
Notes = Annotated[str, Meta(max_length=4000)]
Reps = Annotated[int, Meta(ge=1, le=1000)]
LoadValue = Annotated[float, Meta(ge=0, le=2000)]
Rpe = Annotated[float, Meta(ge=1, le=10, multiple_of=0.5)]
WorkoutId = Annotated[str, Meta(extra_json_schema={"format": "uuid"})]


class Load(Struct, frozen=True, forbid_unknown_fields=True):
    """The weight moved in one set; a set without a load is bodyweight."""

    value: LoadValue
    unit: LoadUnit


class WorkoutSet(Struct, frozen=True, forbid_unknown_fields=True):
    """One set: an exercise done for `reps`, with an optional load and effort rating (RPE)."""

    exercise: ExerciseName
    reps: Reps
    load: Load | UnsetType = UNSET
    rpe: Rpe | UnsetType = UNSET


Sets = Annotated[tuple[WorkoutSet, ...], Meta(max_length=200)]


class WorkoutInput(Struct, frozen=True, forbid_unknown_fields=True):
    """What a user logs (the create body): the server adds `id` and `created_at`."""

    date: date
    title: Title
    notes: Notes = ""
    sets: Sets = ()


class Workout(Struct, frozen=True, forbid_unknown_fields=True):
    """A stored workout: the user's input plus its server-made UUID and UTC creation time."""

    id: WorkoutId
    date: date
    title: Title
    notes: Notes
    sets: Sets
    created_at: datetime

    @classmethod
    def from_input(cls, workout: WorkoutInput, *, workout_id: str, created_at: datetime) -> Workout:
        """The stored form of `workout`."""
        return cls(
            id=workout_id,
            date=workout.date,
            title=workout.title,
            notes=workout.notes,
            sets=workout.sets,
            created_at=created_at,
        )


def canonical_workout_id(raw: str) -> str | None:
    """The canonical (lower-case, hyphenated) form of a workout id, or None if it is no UUID.

    Ids arrive from URLs; an id that is not a UUID names no workout, so callers answer
    "not found" instead of asking the database.
    """
    try:
        return str(uuid.UUID(raw))
    except (ValueError, TypeError):
        return None


def workout_document_text(workout: Workout | WorkoutInput) -> str:
    """The workout as one line of plain text for embedding and retrieval.

    Identical consecutive sets are grouped as sets x reps:
    "2026-11-18 Leg day: Back squat 5x5 @ 100 kg RPE 8; Plank 3x1. Notes: felt strong".
    """
    text = f"{workout.date.isoformat()} {_one_line(workout.title)}"
    groups = _grouped_sets(workout.sets)
    if groups:
        text += ": " + "; ".join(_describe(s, count) for s, count in groups)
    text += "."
    notes = _one_line(workout.notes)
    if notes:
        text += f" Notes: {notes}"
    return text


_WHITESPACE = re.compile(r"\s+")


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _grouped_sets(sets: tuple[WorkoutSet, ...]) -> list[tuple[WorkoutSet, int]]:
    groups: list[tuple[WorkoutSet, int]] = []
    for s in sets:
        if groups and groups[-1][0] == s:
            groups[-1] = (s, groups[-1][1] + 1)
        else:
            groups.append((s, 1))
    return groups


def _describe(s: WorkoutSet, count: int) -> str:
    text = f"{_one_line(s.exercise)} {count}x{s.reps}"
    if not isinstance(s.load, UnsetType):
        text += f" @ {_number(s.load.value)} {s.load.unit}"
    if not isinstance(s.rpe, UnsetType):
        text += f" RPE {_number(s.rpe)}"
    return text


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)
