"""Questions narrow a date range to the workouts they name, by exercise or body part."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from spotter.retrieval.workout_topics import question_topic, workout_terms
from spotter.workouts.model import Workout, WorkoutSet


def workout(title: str, *exercises: str, notes: str = "") -> Workout:
    return Workout(
        id="00000000-0000-4000-8000-000000000000", date=date(2026, 11, 18), title=title,
        notes=notes, sets=tuple(WorkoutSet(exercise=e, reps=5) for e in exercises),
        created_at=datetime(2026, 11, 18, tzinfo=UTC),
    )  # fmt: skip


LEG_DAY = workout("Leg day", "Back squat", "Leg press")
FRONT = workout("Full body", "Front squat", "Bench press")
UPPER = workout("Upper", "Bench press", "Barbell row", notes="squats tomorrow")
RUN = workout("Easy run", "Run")


@pytest.mark.parametrize(
    ("question", "matching"),
    [
        ("What did I squat last week?", {"Leg day", "Full body"}),
        ("how many times did I go squatting", {"Leg day", "Full body"}),
        ("What did I bench?", {"Full body", "Upper"}),
        ("my last leg day", {"Leg day", "Full body"}),
        ("What did I do for my chest?", {"Full body", "Upper"}),
        ("what did I do for my back", {"Leg day", "Upper"}),  # "Back squat" names the back
        ("how far did I run", {"Easy run"}),
        ("What did I do last week?", {"Leg day", "Full body", "Upper", "Easy run"}),
        ("How heavy was my training?", {"Leg day", "Full body", "Upper", "Easy run"}),
    ],
)
def test_questions_match_the_workouts_they_name(question: str, matching: set[str]) -> None:
    log = [LEG_DAY, FRONT, UPPER, RUN]
    topic = question_topic(question, known_words={"squat", "bench", "press"}, workouts=log)
    assert {w.title for w in log if topic.matches(w)} == matching


def test_notes_do_not_count_as_training() -> None:
    assert "squat" not in workout_terms(UPPER)
    assert workout_terms(LEG_DAY) >= {"leg", "day", "back", "squat", "press"}
