"""Decides which logged workouts a question is about: "squat" matches "Back squat" and "Front squat".

Date-bounded questions ("what did I squat last week?") are answered from the log by date, then
narrowed to the exercise or body part the question names. Only words that name training
(exercise words from the knowledge base titles, body parts, words in the user's own workouts)
narrow the list; "how heavy was last week?" keeps every workout of the week.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spotter.retrieval.lexical import terms
from spotter.workouts.model import Workout

__all__ = ["WorkoutTopic", "question_topic", "workout_terms"]

# Body parts and training styles, each with the exercise-name words that train them. Only words
# specific enough to stand alone ("press" is not: leg press, bench press and overhead press).
_GROUPS: dict[str, frozenset[str]] = {
    "leg": frozenset(terms("""leg squat lunge deadlift calf hamstring quad glute thrust bulgarian
        hack pistol sled romanian rdl""")),
    "chest": frozenset(terms("chest bench fly flye push pushup dip pec")),
    "back": frozenset(terms("back row pull pullup chin chinup pulldown deadlift lat shrug")),
    "shoulder": frozenset(terms("shoulder overhead lateral military delt face arnold")),
    "arm": frozenset(terms("arm curl bicep tricep pushdown skull hammer")),
    "core": frozenset(terms("core plank crunch situp rollout ab abs hollow twist")),
    "cardio": frozenset(terms("cardio run jog bike cycle swim rower erg interval sprint walk hike")),
    "push": frozenset(terms("push bench overhead dip pushup tricep fly")),
    "pull": frozenset(terms("pull row pullup chin pulldown curl face deadlift")),
}
_GROUPS["lower"] = _GROUPS["leg"]
_GROUPS["upper"] = _GROUPS["chest"] | _GROUPS["back"] | _GROUPS["shoulder"] | _GROUPS["arm"]
_ALIASES = {
    "quad": "leg", "quadricep": "leg", "hamstring": "leg", "glute": "leg", "calf": "leg",
    "pec": "chest", "lat": "back", "delt": "shoulder", "bicep": "arm", "tricep": "arm",
    "ab": "core", "abs": "core", "conditioning": "cardio",
}  # fmt: skip

# Words that say which workouts, not what was trained.
_GENERIC = frozenset(
    terms("""day session workout train training trained lift lifted lifting log logged week
    month year today yesterday last past previous recent latest time much many heavy weight
    volume set rep reps go went gym exercise exercises total morning evening night weekend
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december ago since between show tell list
    everything anything something done kg lb""")
)


@dataclass(frozen=True, slots=True)
class WorkoutTopic:
    """The training words of a question; empty means "every workout in the range"."""

    words: frozenset[str]

    def matches(self, workout: Workout) -> bool:
        """Whether `workout`'s title or exercises name one of the topic's words."""
        if not self.words:
            return True
        have = workout_terms(workout)
        for word in self.words:
            if word in have:
                return True
            group = _GROUPS.get(_ALIASES.get(word, word))
            if group is not None and have & group:
                return True
        return False


def workout_terms(workout: Workout) -> frozenset[str]:
    """Stemmed words of the workout's title and exercise names (notes are not what was done)."""
    names = [workout.title, *(s.exercise for s in workout.sets)]
    return frozenset(terms(" ".join(names)))


def question_topic(
    question: str, known_words: Iterable[str] = (), workouts: Sequence[Workout] = ()
) -> WorkoutTopic:
    """The question's words that name training: body parts, `known_words` (exercise vocabulary,
    e.g. words of the knowledge base's exercise titles) or words from the user's `workouts`."""
    vocabulary = set(known_words) | set(_GROUPS) | set(_ALIASES)
    for group in _GROUPS.values():
        vocabulary |= group
    for workout in workouts:
        vocabulary |= workout_terms(workout)
    words = {w for w in terms(question) if w in vocabulary and w not in _GENERIC and not w.isdigit()}
    return WorkoutTopic(frozenset(words))
