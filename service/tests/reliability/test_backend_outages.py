"""Backends failing under a running service: vector store, PostgreSQL, Redis.

The vector store and the database degrade answers (`documents_found.degraded: true`) and
/readyz names them; workout endpoints answer 503 `database-unavailable`; a Redis outage refuses
turns with 503 `memory-unavailable` and Retry-After before any stream, and the service recovers by
itself when Redis is back. Never a 500.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.reliability.conftest import llm_env
from tests.reliability.figures import RunFigures
from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.postgres_server import PostgresServer, start_postgres_server
from tests.support.redis_server import RedisServer
from tests.support.service_process import ServiceFactory, ServiceProcess
from tests.support.sse_client import Chat, StreamResult

WORKOUT = {"date": dt.date.today().isoformat(), "title": "Leg day", "notes": "Squats felt heavy",
           "sets": [{"exercise": "Back squat", "reps": 5}]}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres_server()
    yield server
    server.stop()


def _readiness(service: ServiceProcess) -> tuple[int, dict[str, str]]:
    response = httpx.get(f"{service.url}/readyz", timeout=10)
    return response.status_code, response.json()["checks"]


def _assert_unavailable(response: httpx.Response, kind: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:spotter:problem:{kind}"
    assert int(response.headers["retry-after"]) >= 1


def test_vector_store_then_database_outage_degrade_answers_and_never_500(
    counted_service: ServiceFactory, anthropic: AnthropicServer, postgres: PostgresServer, figures: RunFigures
) -> None:
    service = counted_service(**llm_env(anthropic, SPOTTER_DATABASE_URL=postgres.create_database()))
    user = Chat(service.url, "credentials:outage")
    assert httpx.post(f"{service.url}/v1/workouts", json=WORKOUT, headers=user.headers()).status_code == 201
    assert _readiness(service)[0] == 200

    vectors = service.data_dir / "vectors"
    vectors.rename(service.data_dir / "vectors.away")
    vectors.write_text("not a directory any more")  # the local store's folder is unusable
    figures.add("faults_injected")
    status, checks = _readiness(service)
    assert status == 503 and checks["vector_store"] != "ok" and checks["database"] == "ok"
    answer = Chat(service.url, "credentials:newcomer").send("How do I brace for a squat?")
    assert answer.events[1].data["degraded"] is True and answer.done["turn"] == 1
    assert httpx.post(f"{service.url}/v1/workouts", json=WORKOUT, headers=user.headers()).status_code == 201
    vectors.unlink()
    (service.data_dir / "vectors.away").rename(vectors)
    assert _readiness(service)[0] == 200
    assert Chat(service.url, "credentials:later").send("How do I brace?").events[1].data["degraded"] is False
    figures.add("faults_survived")
    figures.add("streams_held", 2)

    postgres.terminate()  # the database goes away for good
    figures.add("faults_injected")
    workout_id = "00000000-0000-4000-8000-000000000000"
    for response in (
        httpx.get(f"{service.url}/v1/workouts", headers=user.headers(), timeout=30),
        httpx.post(f"{service.url}/v1/workouts", json=WORKOUT, headers=user.headers(), timeout=30),
        httpx.get(f"{service.url}/v1/workouts/{workout_id}", headers=user.headers(), timeout=30),
        httpx.delete(f"{service.url}/v1/workouts/{workout_id}", headers=user.headers(), timeout=30),
        httpx.delete(f"{service.url}/v1/workouts", headers=user.headers(), timeout=30),
    ):
        _assert_unavailable(response, "database-unavailable")
    status, checks = _readiness(service)
    assert status == 503 and checks["database"] != "ok"
    dated = user.send("What did I do last week?")
    assert dated.done["turn"] == 1 and dated.events[1].data["degraded"] is True
    figures.add("faults_survived")
    figures.add("streams_held")


def test_redis_down_refuses_turns_before_any_stream_and_recovery_is_automatic(
    counted_service: ServiceFactory,
    anthropic: AnthropicServer,
    disposable_redis_server: RedisServer,
    figures: RunFigures,
) -> None:
    redis = disposable_redis_server
    service = counted_service(**llm_env(anthropic, SPOTTER_MEMORY_URL=redis.url()))
    chat = Chat(service.url, "credentials:redis")
    assert chat.send("first turn").done["turn"] == 1

    redis.terminate()
    figures.add("faults_injected")
    started = time.monotonic()
    refused = chat.send("while Redis is down")
    assert time.monotonic() - started < 5
    assert refused.status == 503 and refused.headers["content-type"] == "application/problem+json"
    assert refused.problem["type"] == "urn:spotter:problem:memory-unavailable"
    assert int(refused.headers["retry-after"]) >= 1
    status, checks = _readiness(service)
    assert status == 503 and checks["memory"] != "ok"
    assert httpx.get(f"{service.url}/v1/workouts", headers=chat.headers()).status_code == 200

    redis.start()  # same port, empty: what a Redis restart looks like
    deadline = time.monotonic() + 15
    while _readiness(service)[0] != 200:
        assert time.monotonic() < deadline, "the service did not see Redis come back"
        time.sleep(0.2)
    back = chat.send("Redis is back")
    assert back.events[0].data["reason"] == "memory_lost" and back.done["turn"] == 2
    figures.add("faults_survived")

    # Redis dies while a turn streams: the commit fails, so the stream ends with a retryable error.
    anthropic.script(Behaviour(text="word " * 40, delay=0.05))
    streamed: list[StreamResult] = []
    opened = len(anthropic.streams)
    reader = threading.Thread(target=lambda: streamed.append(chat.send("a long answer")))
    reader.start()
    assert anthropic.wait_for(lambda s: len(s.streams) > opened, within=10)
    redis.terminate()
    figures.add("faults_injected")
    reader.join(30)
    assert streamed[0].names[-1] == "error"
    assert streamed[0].events[-1].data == {**streamed[0].events[-1].data, "code": "memory_unavailable",
                                           "retryable": True}
    redis.start()
    deadline = time.monotonic() + 15
    while _readiness(service)[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert chat.send("and again").done["turn"] == 3
    figures.add("faults_survived")
    figures.add("streams_held", 6)


def test_a_service_restart_with_redis_memory_keeps_the_conversation(
    counted_service: ServiceFactory, anthropic: AnthropicServer, disposable_redis_server: RedisServer,
    figures: RunFigures,
) -> None:
    service = counted_service(**llm_env(anthropic, SPOTTER_MEMORY_URL=disposable_redis_server.url()))
    chat = Chat(service.url)
    chat.send("my name is Sam")
    chat.send("I train three days a week")
    service.stop()
    figures.add("faults_injected")
    restarted = counted_service(data_dir=service.data_dir,
                                **llm_env(anthropic, SPOTTER_MEMORY_URL=disposable_redis_server.url()))
    chat.base_url = restarted.url
    result = chat.send("what is my name?")
    assert "checkpoint" not in result.names and result.done["turn"] == 3
    assert [m["content"] for m in anthropic.requests[-1].body["messages"]][::2] == [
        "my name is Sam", "I train three days a week", "what is my name?"]
    figures.add("faults_survived")
    figures.add("streams_held", 3)
