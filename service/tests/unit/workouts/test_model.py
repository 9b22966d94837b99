"""Decoding a workout body is its validation: every limit of the spec rejects what it should."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import msgspec
import pytest
import yaml

from spotter.workouts.model import (
    Load,
    Workout,
    WorkoutInput,
    WorkoutSet,
    canonical_workout_id,
    workout_document_text,
)

decode_input = msgspec.json.Decoder(WorkoutInput).decode

#: The hand-written spec is the truth the model must match.
SPEC = Path(__file__).resolve().parents[4] / "openapi" / "openapi.yaml"


def body(**changes: Any) -> dict[str, Any]:
    valid: dict[str, Any] = {
        "date": "2026-11-18",
        "title": "Leg day",
        "notes": "Felt strong",
        "sets": [{"exercise": "Back squat", "reps": 5, "load": {"value": 100, "unit": "kg"}, "rpe": 8}],
    }
    valid.update(changes)
    return valid


def with_set(**changes: Any) -> dict[str, Any]:
    one_set: dict[str, Any] = {"exercise": "Back squat", "reps": 5}
    one_set.update(changes)
    return body(sets=[one_set])


def decode(value: dict[str, Any]) -> WorkoutInput:
    return decode_input(msgspec.json.encode(value))


def test_a_full_body_decodes() -> None:
    workout = decode(body())
    assert workout == WorkoutInput(
        date=date(2026, 11, 18),
        title="Leg day",
        notes="Felt strong",
        sets=(WorkoutSet("Back squat", 5, load=Load(100.0, "kg"), rpe=8.0),),
    )


def test_only_date_and_title_are_required() -> None:
    workout = decode({"date": "2026-11-18", "title": "Rest"})
    assert (workout.notes, workout.sets) == ("", ())
    for missing in ("date", "title"):
        partial = body()
        del partial[missing]
        with pytest.raises(msgspec.ValidationError, match=f"missing required field `{missing}`"):
            decode(partial)


def test_a_set_without_load_or_rpe_is_bodyweight_and_encodes_without_them() -> None:
    workout = decode(with_set())
    assert workout.sets[0].load is msgspec.UNSET
    assert workout.sets[0].rpe is msgspec.UNSET
    assert msgspec.json.decode(msgspec.json.encode(workout))["sets"] == [{"exercise": "Back squat", "reps": 5}]


INVALID = [
    body(date="2026-13-01"),
    body(date="18/11/2026"),
    body(date="2026-11-18T10:00:00Z"),
    body(date=None),
    body(title=""),
    body(title="   "),
    body(title="\t\n"),
    body(title="x" * 201),
    body(title=None),
    body(notes="x" * 4001),
    body(notes=None),
    body(sets=[{"exercise": "Plank", "reps": 1}] * 201),
    body(sets=None),
    body(unknown="field"),
    with_set(exercise=""),
    with_set(exercise="  "),
    with_set(exercise="x" * 201),
    with_set(reps=0),
    with_set(reps=1001),
    with_set(reps=2.5),
    with_set(reps="5"),
    with_set(reps=True),
    with_set(load={"value": 100, "unit": "stone"}),
    with_set(load={"value": 100, "unit": "KG"}),
    with_set(load={"value": -1, "unit": "kg"}),
    with_set(load={"value": 2000.5, "unit": "kg"}),
    with_set(load={"value": 100}),
    with_set(load={"value": 100, "unit": "kg", "per_side": True}),
    with_set(load=None),
    with_set(load=100),
    with_set(rpe=0.5),
    with_set(rpe=10.5),
    with_set(rpe=7.3),
    with_set(rpe=None),
    with_set(extra=1),
]


@pytest.mark.parametrize("value", INVALID)
def test_an_invalid_body_is_rejected(value: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(value)


VALID = [
    body(title="x" * 200, notes="x" * 4000),
    body(title=" Leg day "),
    body(sets=[]),
    body(sets=[{"exercise": "Plank", "reps": 1}] * 200),
    with_set(exercise="x" * 200, reps=1000),
    with_set(reps=1),
    with_set(load={"value": 0, "unit": "lb"}),
    with_set(load={"value": 2000, "unit": "kg"}),
    with_set(load={"value": 102.5, "unit": "kg"}),
    with_set(rpe=1),
    with_set(rpe=10),
    with_set(rpe=7.5),
]


@pytest.mark.parametrize("value", VALID)
def test_values_at_the_limits_are_accepted(value: dict[str, Any]) -> None:
    decode(value)


@pytest.fixture(scope="module")
def spec_validator() -> jsonschema.Draft202012Validator:
    spec = yaml.safe_load(SPEC.read_text())
    schema = {"$ref": "#/components/schemas/WorkoutInput", "components": spec["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("value", VALID + INVALID)
def test_the_model_accepts_exactly_what_the_spec_accepts(
    spec_validator: jsonschema.Draft202012Validator, value: dict[str, Any]
) -> None:
    try:
        decode(value)
        model_accepts = True
    except msgspec.ValidationError:
        model_accepts = False
    assert model_accepts == spec_validator.is_valid(value)


def test_the_json_schema_states_the_spec_limits() -> None:
    _, components = msgspec.json.schema_components([WorkoutInput])
    workout_set = components["WorkoutSet"]["properties"]
    assert workout_set["reps"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert workout_set["rpe"] == {"type": "number", "minimum": 1, "maximum": 10, "multipleOf": 0.5}
    assert components["Load"]["properties"]["unit"] == {"enum": ["kg", "lb"]}
    workout_input = components["WorkoutInput"]
    assert workout_input["required"] == ["date", "title"]
    assert workout_input["properties"]["sets"]["maxItems"] == 200
    assert workout_input["additionalProperties"] is False


def test_a_stored_workout_encodes_as_the_spec_shape() -> None:
    workout = Workout(
        id="0b5e5d3c-5b0f-4a57-9a43-3f1c2f1f8f00",
        date=date(2026, 11, 18),
        title="Leg day",
        notes="",
        sets=(WorkoutSet("Back squat", 5, load=Load(100.0, "kg")),),
        created_at=datetime(2026, 11, 18, 10, 30, 0, 123456, tzinfo=UTC),
    )
    assert msgspec.json.decode(msgspec.json.encode(workout)) == {
        "id": "0b5e5d3c-5b0f-4a57-9a43-3f1c2f1f8f00",
        "date": "2026-11-18",
        "title": "Leg day",
        "notes": "",
        "sets": [{"exercise": "Back squat", "reps": 5, "load": {"value": 100.0, "unit": "kg"}}],
        "created_at": "2026-11-18T10:30:00.123456Z",
    }


def test_document_text_groups_identical_sets() -> None:
    workout = decode(
        body(
            notes="Felt strong.\n  Depth was good.",
            sets=[
                *[{"exercise": "Back squat", "reps": 5, "load": {"value": 100, "unit": "kg"}, "rpe": 8}] * 5,
                {"exercise": "Leg press", "reps": 12, "load": {"value": 402.5, "unit": "lb"}},
                {"exercise": "Leg press", "reps": 10, "load": {"value": 402.5, "unit": "lb"}},
                {"exercise": "Walking lunge", "reps": 20, "rpe": 7.5},
                {"exercise": "Plank", "reps": 1},
                {"exercise": "Plank", "reps": 1},
            ],
        )
    )
    assert workout_document_text(workout) == (
        "2026-11-18 Leg day: Back squat 5x5 @ 100 kg RPE 8; Leg press 1x12 @ 402.5 lb; "
        "Leg press 1x10 @ 402.5 lb; Walking lunge 1x20 RPE 7.5; Plank 2x1. "
        "Notes: Felt strong. Depth was good."
    )


def test_document_text_of_a_workout_without_sets_or_notes() -> None:
    assert workout_document_text(decode({"date": "2026-11-19", "title": " Rest\nday "})) == ("2026-11-19 Rest day.")


def test_canonical_workout_id() -> None:
    workout_id = uuid.uuid4()
    assert canonical_workout_id(str(workout_id).upper()) == str(workout_id)
    assert canonical_workout_id("not-a-uuid") is None
    assert canonical_workout_id("") is None
