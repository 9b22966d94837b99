"""The retriever against a real SQLite workout log, a real local store and the real model.

Today is fixed to Wednesday 18 November 2026, so "last week" is Monday 9 to Sunday 15 November.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from spotter.retrieval.base import RetrievalQuery, RetrievalResult
from spotter.retrieval.embedding import Embedder
from spotter.retrieval.knowledge_base import load_knowledge
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.retriever import Mode, SpotterRetriever, workout_hit_id, workout_hit_title
from spotter.retrieval.stores import local_vectors_dir
from spotter.retrieval.vector_store import workout_namespace
from spotter.retrieval.workout_index import erase_user, index_workout, remove_workouts
from spotter.workouts.model import Load, Workout, WorkoutInput, WorkoutSet
from spotter.workouts.sqlite_repository import SqliteWorkoutRepository
from tests.retrieval_fixtures import KnowledgeIndex
from tests.unit.retrieval.test_query_batching import CountingEmbedder

TODAY = date(2026, 11, 18)
ALICE, BOB = "alice", "bob"
SECRET_PHRASE = "zebra-striped kettlebell complex"


def sets(*exercises: str) -> tuple[WorkoutSet, ...]:
    return tuple(
        WorkoutSet(exercise=name, reps=5, load=Load(value=80, unit="kg")) for name in exercises
    )


# (days before today, title, exercises): 24 workouts over six weeks.
ALICE_LOG = [
    (0, "Upper body", sets("Bench press", "Barbell row")),
    (1, "Easy run", sets("Run")),
    (2, "Leg day", sets("Back squat", "Romanian deadlift", "Leg press")),
    (3, "Arms", sets("Barbell curl", "Skull crusher")),  # Sunday 15: last week
    (4, "Long run", sets("Run")),
    (5, "Full body", sets("Front squat", "Bench press", "Pull-up")),
    (6, "Push", sets("Overhead press", "Dip")),
    (7, "Leg day", sets("Back squat", "Walking lunge")),
    (8, "Intervals", sets("Rowing machine")),
    (9, "Pull", sets("Deadlift", "Chin-up")),  # Monday 9: last week
    (10, "Leg day", sets("Back squat", "Leg curl")),  # Sunday 8: the week before
    (12, "Upper body", sets("Bench press", "Lat pulldown")),
    (13, "Easy run", sets("Run")),
    (15, "Leg day", sets("Goblet squat", "Calf raise")),
    (17, "Push", sets("Incline bench press", "Lateral raise")),
    (19, "Pull", sets("Barbell row", "Face pull")),
    (21, "Leg day", sets("Back squat", "Hip thrust")),
    (23, "Core", sets("Front plank", "Ab wheel rollout")),
    (25, "Upper body", sets("Bench press", "Pull-up")),
    (28, "Leg day", sets("Front squat", "Bulgarian split squat")),
    (30, "Easy run", sets("Run")),
    (33, "Full body", sets("Back squat", "Overhead press", "Barbell row")),
    (36, "Pull", sets("Deadlift", "Pull-up")),
    (40, "Leg day", sets("Box squat", "Leg extension")),
]


@dataclass(slots=True)
class World:
    retriever: SpotterRetriever
    embedder: Embedder
    store: LocalVectorStore
    repository: SqliteWorkoutRepository
    alice: dict[str, Workout]  # id -> workout
    bob: list[Workout]
    data_dir: Path


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(
    knowledge_index: KnowledgeIndex, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """Alice's and Bob's logs, shared by the tests that only read."""
    async for built in build_world(knowledge_index, tmp_path_factory.mktemp("retriever")):
        yield built


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_world(knowledge_index: KnowledgeIndex, tmp_path: Path) -> AsyncIterator[World]:
    """A world of its own, for tests that delete, corrupt or close things."""
    async for built in build_world(knowledge_index, tmp_path):
        yield built


async def build_world(knowledge_index: KnowledgeIndex, directory: Path) -> AsyncIterator[World]:
    data_dir = knowledge_index.copy_into(directory / "data")
    store = LocalVectorStore(local_vectors_dir(data_dir))
    repository = await SqliteWorkoutRepository.open(data_dir)
    embedder = knowledge_index.embedder
    alice: dict[str, Workout] = {}
    for days, title, exercises in ALICE_LOG:
        body = WorkoutInput(date=TODAY - timedelta(days=days), title=title, sets=exercises)
        workout = await repository.create(ALICE, body)
        await index_workout(store, embedder, ALICE, workout)
        alice[workout.id] = workout
    bob = []
    for days, title, notes in [
        (3, "Conditioning", f"Did the {SECRET_PHRASE} again"),
        (6, "Leg day", "squats felt heavy"),
    ]:
        body = WorkoutInput(
            date=TODAY - timedelta(days=days), title=title, notes=notes,
            sets=sets("Kettlebell swing", "Back squat"),
        )  # fmt: skip
        workout = await repository.create(BOB, body)
        await index_workout(store, embedder, BOB, workout)
        bob.append(workout)
    retriever = SpotterRetriever(store, embedder, repository, documents=load_knowledge())
    try:
        yield World(retriever, embedder, store, repository, alice, bob, data_dir)
    finally:
        await repository.close()


async def ask(world: World, text: str, user: str = ALICE, top_k: int = 4) -> RetrievalResult:
    return await world.retriever.retrieve(RetrievalQuery(user, text, TODAY, "Europe/London", top_k))


def workout_ids(result: RetrievalResult) -> list[str]:
    return [h.id for h in result.hits if h.source == "workout"]


def expected_ids(world: World, first: date, last: date, *words: str) -> list[str]:
    chosen = [
        w for w in world.alice.values()
        if first <= w.date <= last
        and any(word in (w.title + " " + " ".join(s.exercise for s in w.sets)).lower()
                for word in words)
    ]  # fmt: skip
    chosen.sort(key=lambda w: w.date, reverse=True)
    return [workout_hit_id(w.id) for w in chosen]


async def test_last_weeks_squats_are_exactly_that_weeks_squat_sessions(world: World) -> None:
    result = await ask(world, "What did I squat last week?")
    expected = expected_ids(world, date(2026, 11, 9), date(2026, 11, 15), "squat")
    assert len(expected) == 2  # Wednesday 11 (Leg day) and Friday 13 (Full body)
    assert workout_ids(result) == expected
    assert [h.source for h in result.hits[:2]] == ["workout", "workout"]
    assert not result.degraded
    first = result.hits[0]
    workout = world.alice[first.id.removeprefix("workout:")]
    assert first.title == workout_hit_title(workout.date, workout.title) == "2026-11-13 · Full body"
    assert "Front squat" in first.text
    assert first.score == 1.0
    # The rest of the slots are knowledge about squatting.
    assert all(h.source == "knowledge" for h in result.hits[2:])
    assert len(result.hits) == 4


async def test_a_time_frame_without_an_exercise_returns_every_workout_in_it(world: World) -> None:
    result = await ask(world, "What did I do yesterday?")
    assert workout_ids(result) == expected_ids(world, date(2026, 11, 17), date(2026, 11, 17), "")
    this_week = await ask(world, "How heavy was my training this week?", top_k=6)
    assert workout_ids(this_week) == expected_ids(
        world, date(2026, 11, 16), date(2026, 11, 22), ""
    )


async def test_body_parts_match_their_exercises(world: World) -> None:
    result = await ask(world, "What did I do for my chest last week?", top_k=6)
    assert workout_ids(result) == expected_ids(
        world, date(2026, 11, 9), date(2026, 11, 15), "bench", "dip", "push", "fly", "chest"
    )
    assert len(workout_ids(result)) == 2  # Thursday 12 (Push: dips) and Friday 13 (bench)


async def test_my_last_leg_day_is_the_most_recent_matching_workout(world: World) -> None:
    result = await ask(world, "How did my last leg day go?")
    (latest,) = workout_ids(result)
    assert world.alice[latest.removeprefix("workout:")].date == date(2026, 11, 16)
    chins = await ask(world, "When did I last do chin-ups?")
    (last_chins,) = workout_ids(chins)
    assert world.alice[last_chins.removeprefix("workout:")].date == date(2026, 11, 9)


async def test_another_users_workouts_are_never_returned(world: World) -> None:
    bob_ids = {workout_hit_id(w.id) for w in world.bob}
    for question in (
        f"Tell me about my {SECRET_PHRASE}",
        f"When did I do the {SECRET_PHRASE} last week?",
        "What did I squat last week?",
        "my last leg day",
    ):
        result = await ask(world, question, top_k=8)
        assert not bob_ids & {h.id for h in result.hits}, question
        assert all(SECRET_PHRASE not in h.text for h in result.hits), question
    # Bob himself finds it.
    own = await ask(world, f"Tell me about my {SECRET_PHRASE}", user=BOB)
    assert workout_hit_id(world.bob[0].id) in workout_ids(own)


async def test_personal_questions_get_similar_workouts_and_knowledge(world: World) -> None:
    result = await ask(world, "How has my bench press been going?")
    sources = [h.source for h in result.hits]
    assert "workout" in sources and "knowledge" in sources
    for hit in result.hits:
        if hit.source == "workout":
            assert hit.id.removeprefix("workout:") in world.alice
            assert hit.title.startswith("2026-")


async def test_general_questions_lead_with_knowledge(world: World) -> None:
    result = await ask(world, "How should I brace my core under a heavy barbell?")
    assert result.hits[0].source == "knowledge"
    assert len(result.hits) == 4
    assert all(h.text for h in result.hits)


async def test_removed_and_erased_workouts_are_no_longer_found(fresh_world: World) -> None:
    world = fresh_world
    target = next(w for w in world.alice.values() if w.date == date(2026, 11, 16))
    await remove_workouts(world.store, ALICE, [target.id])
    await world.repository.delete(ALICE, target.id)
    result = await ask(world, "How did my last leg day go?")
    assert workout_hit_id(target.id) not in {h.id for h in result.hits}
    await erase_user(world.store, BOB)
    probe = np.ones(384, dtype=np.float32)
    assert await world.store.query(workout_namespace(BOB), probe, 5) == []
    assert await world.store.query(workout_namespace(ALICE), probe, 5)


async def test_a_broken_vector_store_degrades_but_still_answers_from_the_log(
    fresh_world: World,
) -> None:
    world = fresh_world
    for path in local_vectors_dir(world.data_dir).glob("*.npz"):
        path.write_bytes(b"not a numpy archive")
    broken = LocalVectorStore(local_vectors_dir(world.data_dir))
    retriever = SpotterRetriever(
        broken, world.embedder, world.repository, documents=load_knowledge()
    )
    result = await retriever.retrieve(RetrievalQuery(ALICE, "What did I squat last week?", TODAY))
    assert result.degraded
    assert workout_ids(result) == expected_ids(world, date(2026, 11, 9), date(2026, 11, 15), "squat")
    # Hybrid mode still ranks knowledge by BM25 while the vectors are unreadable.
    assert any(h.source == "knowledge" for h in result.hits)


async def test_a_closed_database_degrades_but_still_answers_from_the_store(
    fresh_world: World,
) -> None:
    world = fresh_world
    await world.repository.close()
    result = await ask(world, "What did I squat last week?")
    assert result.degraded
    assert result.hits
    assert all(h.source == "knowledge" or h.id.removeprefix("workout:") in world.alice
               for h in result.hits)  # fmt: skip


async def test_an_empty_question_or_zero_top_k_returns_nothing(world: World) -> None:
    assert await ask(world, "   ") == RetrievalResult()
    assert await ask(world, "squat", top_k=0) == RetrievalResult()


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
async def test_modes_are_selectable(world: World, mode: Mode) -> None:
    retriever = SpotterRetriever(
        world.store, world.embedder, None, documents=load_knowledge(), mode=mode
    )
    assert retriever.mode == mode
    result = await retriever.retrieve(RetrievalQuery(ALICE, "How do I do a goblet squat?", TODAY))
    assert result.hits[0].id == "ex-goblet-squat"


async def test_the_question_is_embedded_again_only_when_the_vocabulary_adds_words(world: World) -> None:
    embedder = CountingEmbedder()
    retriever = SpotterRetriever(world.store, embedder, None, documents=load_knowledge())
    # "squats" already says squat; "core" adds the catalogue's "abdominal".
    for text in ("How many sets of squats should a beginner do?", "How should I brace my core?"):
        await retriever.retrieve(RetrievalQuery(ALICE, text, TODAY))
    assert embedder.passes == [
        ["How many sets of squats should a beginner do?"],
        ["How should I brace my core?", "How should I brace my core? (abdominal)"],
    ]
