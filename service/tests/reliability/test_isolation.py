"""User B can never read, continue, resume, replay, cancel or delete user A's conversation or
workouts, on both memory backends.

A plants a unique phrase in its turns and its workout; B then reuses A's conversation id, turn
number and Idempotency-Key (with and without Last-Event-ID, while A's keyed turn still streams and
after it ended), cancels and deletes A's conversation and workouts. The phrase must never reach
B's events, B's LLM request, a replay, a resume or a workout listing, and A's memory and
workouts must be intact afterwards.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import httpx

from tests.reliability.figures import RunFigures
from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.observe import llm_messages
from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat, StreamResult


def test_another_user_reaches_nothing_of_a_users_conversation_or_workouts(
    backend_service: ServiceProcess, anthropic: AnthropicServer, figures: RunFigures
) -> None:
    url = backend_service.url
    phrase = f"SECRET-{uuid.uuid4().hex}"
    run = uuid.uuid4().hex[:8]
    alice = Chat(url, f"credentials:alice{run}")
    bob = Chat(url, f"github:bob{run}", alice.conversation)
    leaks: list[str] = []

    def probe(what: str, seen: str) -> None:
        figures.add("isolation_probes")
        if phrase in seen:
            leaks.append(what)

    def probe_llm(what: str, before: int) -> None:
        for request in anthropic.requests[before:]:  # every request from `before` on is B's
            probe(what + " (LLM request)", str(request.body))

    anthropic.script(Behaviour(text=f"The secret is {phrase}"), Behaviour(text=f"Again: {phrase}"))
    first = alice.send("tell me the secret", timeout=60.0, **{"Idempotency-Key": "key-1"})
    alice.send("say it again", timeout=60.0, **{"Idempotency-Key": "key-2"})
    workout = httpx.post(f"{url}/v1/workouts", headers=alice.headers(), json={
        "date": dt.date.today().isoformat(), "title": "Leg day", "notes": f"note {phrase}"})
    assert workout.status_code == 201
    workout_id = workout.json()["id"]
    assert alice.turn == 2

    attempts: dict[str, dict[str, str]] = {
        "continue with A's turn number": {},
        "replay A's Idempotency-Key": {"Idempotency-Key": "key-1"},
        "resume A's turn": {"Idempotency-Key": "key-2", "Last-Event-ID": "1"},
    }
    for what, headers in attempts.items():
        before = len(anthropic.requests)
        bob.turn = 2
        message = {"key-1": "tell me the secret", "key-2": "say it again"}.get(headers.get("Idempotency-Key", ""))
        result = bob.send(message or "what is my secret?", timeout=60.0, **headers)
        assert result.status == 200, result.body[:300]
        probe(what, result.text + str([e.data for e in result.events if e.event != "retrieval_start"]))
        assert len(anthropic.requests) == before + 1, what  # B's own turn ran; nothing was replayed
        probe_llm(what, before)
    assert bob.send("what did I log in my last workout?").status == 200
    probe("B asks about their workouts", str(anthropic.requests[-1].body))
    listing = httpx.get(f"{url}/v1/workouts", headers=bob.headers())
    probe("B lists workouts", listing.text)
    assert httpx.get(f"{url}/v1/workouts/{workout_id}", headers=bob.headers()).status_code == 404
    assert httpx.delete(f"{url}/v1/workouts/{workout_id}", headers=bob.headers()).status_code == 404
    assert httpx.delete(f"{url}/v1/workouts", headers=bob.headers()).status_code == 204
    assert httpx.delete(f"{url}/v1/conversations/{alice.conversation}", headers=bob.headers()).status_code == 204
    assert httpx.delete(f"{url}/v1/me", headers=bob.headers()).status_code == 204
    figures.add("isolation_probes", 5)

    # A's keyed turn is streaming: B joining with the same key, or cancelling, must not touch it.
    anthropic.script(Behaviour(text=f"slow answer {phrase} " + "word " * 40, delay=0.03), Behaviour())
    streaming: list[StreamResult] = []
    opened = len(anthropic.streams)
    reader = threading.Thread(target=lambda: streaming.append(
        alice.send("tell me slowly", timeout=60.0, **{"Idempotency-Key": "key-3"})))
    reader.start()
    assert anthropic.wait_for(lambda s: len(s.streams) > opened, within=10)
    time.sleep(0.2)  # A's turn is producing text now
    before = len(anthropic.requests)
    bob.turn = 0
    joined = bob.send("tell me slowly", timeout=60.0, **{"Idempotency-Key": "key-3"})
    probe("join A's live turn", joined.text)
    probe_llm("join A's live turn", before)
    cancel = httpx.post(f"{url}/v1/conversations/{alice.conversation}/cancel", headers=bob.headers())
    assert cancel.status_code == 204
    figures.add("isolation_probes")
    reader.join(30)
    assert streaming[0].done["finish_reason"] == "stop", "B's cancel stopped A's turn"

    replay = Chat(url, alice.user, alice.conversation)
    assert replay.send("tell me the secret", timeout=60.0, **{"Idempotency-Key": "key-1"}).events == first.events
    assert alice.send("what is my secret?").done["turn"] == 4
    history = llm_messages(anthropic)
    assert history[0] == ("user", "tell me the secret")
    assert len(history) == 7 and phrase in str(history)  # A's window survived B's deletes
    mine = httpx.get(f"{url}/v1/workouts", headers=alice.headers()).json()["items"]
    assert [w["id"] for w in mine] == [workout_id]
    figures.add("cross_user_reads", len(leaks))
    assert not leaks, leaks
