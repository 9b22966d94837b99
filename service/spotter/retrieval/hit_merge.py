"""How knowledge entries and the asking user's own workouts become one ranked list of hits.

The retriever finds candidates from three places (the workout log by date, the knowledge
namespace, the user's workout namespace); this module turns workout vectors into hits, keeps
those that fit the question's dates, and merges everything into the `top_k` slots: dated
workouts first, then knowledge and similar workouts by similarity, with slots kept for workouts
when the question is about the user's own training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from spotter.retrieval.base import RetrievalHit
from spotter.retrieval.timeframe import Latest, TimeFrame
from spotter.retrieval.vector_store import MetadataValue, VectorMatch

__all__ = [
    "MIN_UNASKED_WORKOUT_SIMILARITY",
    "MIN_WORKOUT_SIMILARITY",
    "Candidate",
    "merge_hits",
    "metadata_text",
    "similar_workouts",
    "within",
    "workout_hit",
    "workout_hit_id",
    "workout_hit_title",
]

#: A workout found by similarity must be at least this close to be shown at all.
MIN_WORKOUT_SIMILARITY = 0.25
#: ...and this close when the question is not about the user's own training.
MIN_UNASKED_WORKOUT_SIMILARITY = 0.55


def workout_hit_id(workout_id: str) -> str:
    """The hit id of a workout: `workout:<uuid>`."""
    return f"workout:{workout_id}"


def workout_hit_title(day: date, title: str) -> str:
    """How a workout is titled in hits: "2026-11-18 · Leg day"."""
    return f"{day.isoformat()} \u00b7 {title}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A hit on its way into the list, with the similarity the merge compares."""

    hit: RetrievalHit
    similarity: float  # dense cosine; 0.0 for an entry found only by BM25
    day: date | None = None  # a workout's date


def similar_workouts(matches: Iterable[VectorMatch], personal: bool) -> list[Candidate]:
    """The workout vectors close enough to show, as hits (a personal question lowers the bar)."""
    floor = MIN_WORKOUT_SIMILARITY if personal else MIN_UNASKED_WORKOUT_SIMILARITY
    ranked: list[Candidate] = []
    for match in matches:
        if match.score < floor:
            continue
        raw_date = match.metadata.get("date")
        day = _date_from_int(raw_date) if isinstance(raw_date, int) else None
        title = metadata_text(match.metadata, "title") or "Workout"
        text = metadata_text(match.metadata, "text")
        if day is None:
            continue
        hit = workout_hit(match.id, day, title, text, match.score)
        ranked.append(Candidate(hit, match.score, day))
    return ranked


def within(frame: TimeFrame | Latest | None, similar: list[Candidate]) -> list[Candidate]:
    """The similar workouts that fit the question's dates."""
    if frame is None:
        return similar
    if isinstance(frame, Latest):
        return similar[:1]
    return [c for c in similar if c.day is not None and c.day in frame]


def merge_hits(
    dated: Sequence[RetrievalHit],
    knowledge: Sequence[Candidate],
    similar: Sequence[Candidate],
    top_k: int,
    personal: bool,
) -> tuple[RetrievalHit, ...]:
    """Dated workouts first; then knowledge and similar workouts merged by similarity
    (knowledge keeps its own, possibly fused, order), with up to half of those slots kept for
    workouts when the question is about the user's own training."""
    chosen: list[RetrievalHit] = list(dated[:top_k])
    taken = {hit.id for hit in chosen}
    workouts = [c for c in similar if c.hit.id not in taken]
    pending = list(knowledge)
    slots = top_k - len(chosen)
    reserved = min(len(workouts), max(1, slots // 2)) if personal else 0
    while len(chosen) < top_k and (pending or workouts):
        must = reserved > 0 and reserved >= top_k - len(chosen)
        if workouts and (must or not pending or workouts[0].similarity > pending[0].similarity):
            chosen.append(workouts.pop(0).hit)
            reserved -= 1
        else:
            chosen.append(pending.pop(0).hit)
    return tuple(chosen)


def workout_hit(workout_id: str, day: date, title: str, text: str, score: float) -> RetrievalHit:
    """A workout as a hit: `workout:<uuid>`, titled with its date."""
    return RetrievalHit(
        workout_hit_id(workout_id), workout_hit_title(day, title), "workout", score, text
    )


def _date_from_int(value: int) -> date | None:
    try:
        return date(value // 10_000, value // 100 % 100, value % 100)
    except ValueError:
        return None


def metadata_text(metadata: Mapping[str, MetadataValue], key: str) -> str:
    """A string metadata field, or "" when it is missing or not a string."""
    value = metadata.get(key)
    return value if isinstance(value, str) else ""
