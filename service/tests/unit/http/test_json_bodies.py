"""Request bodies: integral numbers are integers as in JSON Schema, and nothing else gets looser."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from spotter.http.chat_routes import ChatRequest
from spotter.http.json_bodies import decode_body
from spotter.workouts.model import Load, WorkoutInput

Count = Annotated[int, msgspec.Meta(ge=0, le=10)]


class Tally(msgspec.Struct, forbid_unknown_fields=True):
    """A model whose integer range includes 0, for `-0.0`."""

    count: Count
    share: float = 0.5


def workout_with_reps(reps: str, load: str = '{"value": 100, "unit": "kg"}') -> bytes:
    return (
        b'{"date": "2026-11-18", "title": "Leg day", "sets": [{"exercise": "Back squat", "reps": '
        + reps.encode()
        + b', "load": '
        + load.encode()
        + b"}]}"
    )


@pytest.mark.parametrize("reps", ["5.0", "5e0", "5E+0", "500e-2", "0.5e1", "5.000", "1000.0", "1e3"])
def test_an_integral_number_is_read_as_the_integer(reps: str) -> None:
    decoded = decode_body(workout_with_reps(reps), WorkoutInput)
    assert decoded == decode_body(workout_with_reps(str(int(float(reps)))), WorkoutInput)
    assert type(decoded.sets[0].reps) is int


def test_negative_zero_is_zero_where_the_range_allows_it() -> None:
    decoded = decode_body(b'{"count": -0.0}', Tally)
    assert (decoded.count, type(decoded.count)) == (0, int)
    assert decode_body(b'{"count": 1e1}', Tally).count == 10


@pytest.mark.parametrize(
    ("reps", "message"),
    [
        ("5.5", "Expected `int`, got `float`"),
        ("1.0000001", "Expected `int`, got `float`"),
        ('"5"', "Expected `int`, got `str`"),
        ('"5.0"', "Expected `int`, got `str`"),
        ("true", "Expected `int`, got `bool`"),
        ("null", "Expected `int`, got `null`"),
        ("[5.0]", "Expected `int`, got `array`"),
        ("0.0", "Expected `int` >= 1"),
        ("-0.0", "Expected `int` >= 1"),
        ("1001.0", "Expected `int` <= 1000"),
        ("1e20", "Expected `int` <= 1000"),
        ("1e400", "Number out of range"),
    ],
)
def test_other_values_are_still_rejected_at_their_path(reps: str, message: str) -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        decode_body(workout_with_reps(reps), WorkoutInput)
    assert message in str(raised.value)
    if "range" not in message:
        assert str(raised.value).endswith("at `$.sets[0].reps`")


def test_number_fields_keep_their_values() -> None:
    decoded = decode_body(workout_with_reps("5.0", '{"value": 102.5, "unit": "kg"}'), WorkoutInput)
    assert decoded.sets[0].load == Load(102.5, "kg")
    whole = decode_body(workout_with_reps("5.0", '{"value": 100.0, "unit": "kg"}'), WorkoutInput)
    assert whole.sets[0].load == Load(100.0, "kg")
    tally = decode_body(b'{"count": 2.0, "share": 1.0}', Tally)
    assert (tally.share, type(tally.share)) == (1.0, float)


def test_strings_do_not_become_numbers_or_numbers_strings() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"Expected `str`, got `int` - at `\$.title`"):
        decode_body(b'{"date": "2026-11-18", "title": 5.0}', WorkoutInput)
    with pytest.raises(msgspec.ValidationError, match=r"Expected `str`, got `float` - at `\$.message`"):
        decode_body(b'{"message": 5.5}', ChatRequest)


def test_the_first_real_problem_is_reported_even_after_an_integral_float() -> None:
    body = b'{"sets": [{"exercise": "Squat", "reps": 5.0}], "date": "2026-11-18", "title": "", "notes": ""}'
    with pytest.raises(msgspec.ValidationError, match=r"at `\$.title`"):
        decode_body(body, WorkoutInput)
    with pytest.raises(msgspec.ValidationError, match="unknown field `extra`"):
        decode_body(b'{"count": 1.0, "extra": 1}', Tally)


def test_malformed_or_hostile_documents_fail_as_the_strict_decoder_fails() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_body(b'{"count": 1.0', Tally)
    # A strict failure first, then JSON too deep to read untyped: the strict error stands (no 500).
    deep = b'{"count": 1.0, "share": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int`, got `float` - at `\$.count`"):
        decode_body(deep, Tally)
    with pytest.raises(msgspec.ValidationError, match=r"at `\$.count`"):
        decode_body(b'{"count": 1.5, "share": 1e400}', Tally)
    with pytest.raises(UnicodeDecodeError):
        decode_body(b'{"count": 1.0, "extra": "\xff"}', Tally)


def test_a_body_that_decodes_strictly_is_unchanged() -> None:
    body = workout_with_reps("8", '{"value": 100.0, "unit": "lb"}')
    assert decode_body(body, WorkoutInput) == msgspec.json.decode(body, type=WorkoutInput)
