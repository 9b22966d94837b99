"""A three-turn conversation, a resumed turn and a logged-then-deleted workout, with the generated client.

What a mobile or script client does against Spotter, written only with the generated Python
package and `spotter_stream` (its streaming helper). Prints a JSON summary; exits non-zero on any
deviation from the spec.

    python three_turns.py --client-dir contract-tests/.generated/python --base-url URL --token TOKEN
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["main"]

QUESTIONS = (
    "How many sets of squats should a beginner do?",
    "And how often per week?",
    "What should I eat after that workout?",
)


def _converse(client: Any, stream_turn: Any, types: Counter[str]) -> dict[str, Any]:
    conversation = str(uuid.uuid4())
    turn = 0
    for number, question in enumerate(QUESTIONS, start=1):
        key = f"turn-{conversation}-{number}"
        events = []
        for event in stream_turn(client, conversation_id=conversation, message=question, turn=turn,
                                 idempotency_key=key):
            events.append(event)
            if number == 3 and len(events) == 2:
                break  # drop the connection mid-turn, then resume after the last event seen
        if number == 3:
            resumed = list(stream_turn(client, conversation_id=conversation, message=question, turn=turn,
                                       idempotency_key=key, last_event_id=events[-1].id))
            assert resumed[0].id == events[-1].id + 1, (resumed[0].id, events[-1].id)
            events += resumed
        assert [e.id for e in events] == list(range(1, len(events) + 1)), [e.id for e in events]
        done = events[-1]
        assert done.event == "done", [e.event for e in events]
        assert type(done.payload).__name__ == "DonePayload"
        assert done.payload.turn == number, (done.payload.turn, number)
        turn = done.payload.turn
        types.update(type(e.payload).__name__ for e in events)
    return {"conversation": conversation, "turn": turn}


def _workout(client: Any, package: str) -> str:
    create = importlib.import_module(f"{package}.api.workouts.create_workout")
    get = importlib.import_module(f"{package}.api.workouts.get_workout")
    delete = importlib.import_module(f"{package}.api.workouts.delete_workout")
    models = importlib.import_module(f"{package}.models")
    body = models.WorkoutInput.from_dict({
        "date": "2026-11-18", "title": "Leg day",
        "sets": [{"exercise": "Back squat", "reps": 5, "load": {"value": 100, "unit": "kg"}, "rpe": 8}],
    })
    created = create.sync_detailed(client=client, body=body)
    assert created.status_code == 201 and isinstance(created.parsed, models.Workout), created.content
    workout_id = created.parsed.id
    fetched = get.sync(workout_id, client=client)
    assert isinstance(fetched, models.Workout) and fetched.title == "Leg day", fetched
    assert delete.sync_detailed(workout_id, client=client).status_code == 204
    gone = get.sync_detailed(workout_id, client=client)
    assert gone.status_code == 404 and isinstance(gone.parsed, models.Problem), gone.content
    return str(workout_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client-dir", type=Path, required=True, help="folder holding the generated package")
    parser.add_argument("--package", default="spotter_api_client")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(args.client_dir), str(Path(__file__).resolve().parent)]
    client_module = importlib.import_module(f"{args.package}.client")
    stream_turn = importlib.import_module("spotter_stream").stream_turn
    client = client_module.AuthenticatedClient(base_url=args.base_url, token=args.token, timeout=60.0)
    types: Counter[str] = Counter()
    with client:
        summary = _converse(client, stream_turn, types)
        summary["deleted_workout"] = _workout(client, args.package)
    summary["events"] = dict(sorted(types.items()))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
