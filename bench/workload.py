"""The work both servers are given: the same questions, identity, limits and pacing knobs.

Both sides read these values, so a turn means the same thing to each: one bearer token check,
one memory load and commit, one query embedding plus top-k search over the same knowledge
vectors, and the same answer text streamed in the same number of deltas.
"""

from __future__ import annotations

__all__ = [
    "AUTH_SECRET",
    "CLIENT_CORE",
    "CONVERSATION_TURNS",
    "QUESTIONS",
    "SCALE_HEARTBEAT_SECONDS",
    "SCALE_PACING_SECONDS",
    "SERVER_CORE",
]

#: HS256 secret shared by the load client and both servers (>= 32 bytes, as Spotter requires).
AUTH_SECRET = "bench-secret-with-at-least-thirty-two-bytes"

#: Questions with no first-person statements, so the offline answer does not depend on history
#: and the baseline can stream exactly the text Spotter streams for the same question.
QUESTIONS: tuple[str, ...] = (
    "How many sets of squats should a beginner do?",
    "What is a good warm-up before deadlifts?",
    "How should I brace my core when benching?",
    "How long should I rest between heavy sets?",
    "What muscles does the Romanian deadlift train?",
    "How do I progress pull-ups when I can only do a few?",
    "Is it better to run intervals or steady runs for endurance?",
    "How much protein do lifters need per day?",
)

#: A client keeps a conversation for this many turns, then starts a new one (memory is exercised).
CONVERSATION_TURNS = 3

#: The scale figure: slow streams held open, heartbeats at 1 s so their delay can be seen.
SCALE_PACING_SECONDS = 4.0
SCALE_HEARTBEAT_SECONDS = 1.0

#: `taskset` cores: the server gets one core, the load client the other.
SERVER_CORE = 0
CLIENT_CORE = 1
