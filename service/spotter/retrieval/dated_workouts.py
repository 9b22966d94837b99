"""Answers date-bounded history questions from the workout log by date, not by similarity.

"What did I squat last week?" must return exactly that week's squat sessions: a vector search
would also return last month's, and miss a session logged in words unlike the question. So the
question's time frame (`timeframe.resolve_timeframe`) selects workouts from the repository, and
its topic (`workout_topics.question_topic`) keeps the matching ones; "my last leg day" takes the
newest match. The retriever ranks these hits first.
"""

from __future__ import annotations

from collections.abc import Collection

from spotter.retrieval.base import RetrievalHit, RetrievalQuery
from spotter.retrieval.hit_merge import workout_hit
from spotter.retrieval.timeframe import Latest, TimeFrame
from spotter.retrieval.workout_topics import WorkoutTopic, question_topic
from spotter.workouts.model import Workout, workout_document_text
from spotter.workouts.repository import WorkoutRepository

__all__ = ["dated_workouts"]

_LATEST_PAGES = 5  # "my last leg day" looks back through at most 500 workouts
_LATEST_PAGE_SIZE = 100


async def dated_workouts(
    workouts: WorkoutRepository | None,
    query: RetrievalQuery,
    frame: TimeFrame | Latest | None,
    exercise_words: Collection[str],
) -> list[RetrievalHit]:
    """The asking user's workouts in `frame` that match the question's topic, newest first,
    each scored 1.0; none without a frame or a repository."""
    if frame is None or workouts is None:
        return []
    if isinstance(frame, TimeFrame):
        found = await workouts.in_range(query.user_id, frame.date_from, frame.date_to)
        topic = question_topic(query.text, exercise_words, found)
        chosen = sorted(
            (w for w in found if topic.matches(w)),
            key=lambda w: (w.date, w.created_at),
            reverse=True,
        )
    else:
        latest = await _latest_matching(workouts, query, exercise_words)
        chosen = [] if latest is None else [latest]
    return [workout_hit(w.id, w.date, w.title, workout_document_text(w), 1.0) for w in chosen]


async def _latest_matching(
    workouts: WorkoutRepository, query: RetrievalQuery, exercise_words: Collection[str]
) -> Workout | None:
    cursor: str | None = None
    topic: WorkoutTopic | None = None
    for _ in range(_LATEST_PAGES):
        page = await workouts.list(
            query.user_id, limit=_LATEST_PAGE_SIZE, cursor=cursor, date_to=query.today
        )
        if topic is None:
            topic = question_topic(query.text, exercise_words, page.items)
        for workout in page.items:  # newest first
            if topic.matches(workout):
                return workout
        cursor = page.next_cursor
        if cursor is None:
            break
    return None
