"""What both repositories share about stored rows: new ids and times, and the sets column's JSON."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
import msgspec.structs

from spotter.workouts.model import Workout, WorkoutInput, WorkoutSet

__all__ = ["Clock", "decode_sets", "encode_sets", "new_workout", "utc_now"]

#: Returns the current time as an aware datetime; repositories take one so tests can fix time.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current UTC time (the default clock)."""
    return datetime.now(UTC)


def new_workout(workout: WorkoutInput, clock: Clock) -> tuple[Workout, str]:
    """`workout` as it will be stored (a fresh random UUID, `created_at` in UTC) and its sets
    as JSON.

    The sets are read back from that JSON, so `create` returns exactly what `get` will (a load
    given as the int 100 comes back as the float 100.0 either way).
    """
    sets = encode_sets(workout.sets)
    stored = Workout.from_input(workout, workout_id=str(uuid.uuid4()), created_at=clock().astimezone(UTC))
    return msgspec.structs.replace(stored, sets=decode_sets(sets)), sets


_sets_encoder = msgspec.json.Encoder()
_sets_decoder = msgspec.json.Decoder(tuple[WorkoutSet, ...])


def encode_sets(sets: tuple[WorkoutSet, ...]) -> str:
    """The sets as a JSON array (absent `load` / `rpe` are omitted, as in the API)."""
    return _sets_encoder.encode(sets).decode()


def decode_sets(text: str | bytes) -> tuple[WorkoutSet, ...]:
    """The sets stored by `encode_sets`."""
    return _sets_decoder.decode(text)
