"""The workout log against the running service: CRUD, paging, dated retrieval, isolation, erase-all."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from tests.support.anthropic_server import AnthropicServer
from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat


def _workout(day: date, title: str, exercise: str, notes: str = "") -> dict[str, Any]:
    return {"date": day.isoformat(), "title": title, "notes": notes,
            "sets": [{"exercise": exercise, "reps": 5, "load": {"value": 100, "unit": "kg"}, "rpe": 8}]}


def test_workout_crud_and_paging(llm_service: ServiceProcess) -> None:
    chat = Chat(llm_service.url, f"credentials:{uuid.uuid4().hex[:12]}")
    url = f"{llm_service.url}/v1/workouts"
    created = []
    for n in range(5):
        response = httpx.post(url, json=_workout(date(2026, 11, 1 + n), f"Session {n}", "Back squat"),
                              headers=chat.headers())
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"/v1/workouts/{response.json()['id']}"
        created.append(response.json())
    first = httpx.get(url, params={"limit": 2}, headers=chat.headers()).json()
    assert [w["title"] for w in first["items"]] == ["Session 4", "Session 3"]
    second = httpx.get(url, params={"limit": 10, "cursor": first["next_cursor"]}, headers=chat.headers()).json()
    assert [w["title"] for w in second["items"]] == ["Session 2", "Session 1", "Session 0"]
    assert second["next_cursor"] is None
    ranged = httpx.get(url, params={"date_from": "2026-11-02", "date_to": "2026-11-03"}, headers=chat.headers())
    assert [w["title"] for w in ranged.json()["items"]] == ["Session 2", "Session 1"]
    one = httpx.get(f"{url}/{created[0]['id']}", headers=chat.headers())
    assert one.json() == created[0]
    assert httpx.delete(f"{url}/{created[0]['id']}", headers=chat.headers()).status_code == 204
    gone = httpx.get(f"{url}/{created[0]['id']}", headers=chat.headers())
    assert gone.status_code == 404
    assert gone.json()["type"] == "urn:spotter:problem:not-found"
    assert httpx.delete(url, headers=chat.headers()).status_code == 204
    assert httpx.get(url, headers=chat.headers()).json() == {"items": [], "next_cursor": None}


def test_last_weeks_squats_come_from_the_log_by_date_and_only_the_askers(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    me = Chat(llm_service.url, f"credentials:{uuid.uuid4().hex[:12]}")
    other = Chat(llm_service.url, f"github:{uuid.uuid4().hex[:12]}")
    today = date.today()  # the service resolves "last week" against today in X-Timezone (UTC here)
    last_monday = today - timedelta(days=today.weekday() + 7)
    url = f"{llm_service.url}/v1/workouts"
    expected = set()
    for offset in range(-14, 8):  # 22 dated workouts around last week
        day = last_monday + timedelta(days=offset)
        exercise = "Back squat" if offset % 2 == 0 else "Bench press"
        response = httpx.post(url, json=_workout(day, f"Day {offset}", exercise), headers=me.headers())
        assert response.status_code == 201
        if 0 <= offset <= 6 and exercise == "Back squat":
            expected.add(f"workout:{response.json()['id']}")
    planted = "zebra-crossing-squat-secret"
    httpx.post(url, json=_workout(last_monday + timedelta(days=1), "Squats", "Back squat", planted),
               headers=other.headers())
    result = me.send("What did I squat last week?", **{"X-Timezone": "UTC"})
    documents = result.events[1].data["documents"]
    workouts = {d["id"] for d in documents if d["source"] == "workout"}
    assert workouts == expected, documents
    assert planted not in str(anthropic.requests[-1].body)
    assert planted not in result.body.decode()
    httpx.delete(url, headers=me.headers())
    httpx.delete(url, headers=other.headers())


def test_erasing_my_data_removes_workouts_from_retrieval_and_memory(
    llm_service: ServiceProcess, anthropic: AnthropicServer
) -> None:
    chat = Chat(llm_service.url, f"credentials:{uuid.uuid4().hex[:12]}")
    phrase = "my-unique-kettlebell-phrase-77"
    httpx.post(f"{llm_service.url}/v1/workouts", json=_workout(date.today(), "Kettlebells", "Kettlebell swing", phrase),
               headers=chat.headers())
    assert phrase in Chat(llm_service.url, chat.user).send("what did I do today with the kettlebell?").body.decode() \
        or phrase in str(anthropic.requests[-1].body)
    chat.send("remember that I like swings")
    assert httpx.delete(f"{llm_service.url}/v1/me", headers=chat.headers()).status_code == 204
    assert httpx.get(f"{llm_service.url}/v1/workouts", headers=chat.headers()).json()["items"] == []
    after = Chat(llm_service.url, chat.user, chat.conversation)
    result = after.send("what did I do today with the kettlebell?")
    assert phrase not in str(anthropic.requests[-1].body)
    assert phrase not in result.body.decode()
    assert [m["content"] for m in anthropic.requests[-1].body["messages"]] != []
    assert len(anthropic.requests[-1].body["messages"]) == 1  # the conversation was forgotten too
