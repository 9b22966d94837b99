"""Logs carry request ids, and never a message text, a workout note or a bearer token."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from tests.reliability.figures import RunFigures
from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat


def test_info_logs_name_requests_but_hold_no_text_or_token(
    reliability_service: ServiceProcess, anthropic: AnthropicServer, figures: RunFigures
) -> None:
    phrase = f"PRIVATE-{uuid.uuid4().hex}"
    request_ids = [f"logtest-{uuid.uuid4().hex[:12]}" for _ in range(4)]
    chat = Chat(reliability_service.url)
    token = chat.headers()["Authorization"].removeprefix("Bearer ")
    headers = {**chat.headers(), "Authorization": f"Bearer {token}"}
    url = reliability_service.url
    auth = f"Bearer {token}"  # one token throughout, so the log can be searched for it
    chat.send(f"my secret is {phrase}", timeout=60.0, **{"X-Request-Id": request_ids[0], "Authorization": auth})
    httpx.post(f"{url}/v1/workouts", headers={**headers, "X-Request-Id": request_ids[1]},
               json={"date": "2026-01-05", "title": phrase, "notes": phrase})
    httpx.post(f"{url}/v1/chat", headers={**headers, "X-Request-Id": request_ids[2]},
               content=f'{{"message": "{phrase}'.encode())  # invalid JSON that quotes the phrase
    anthropic.script(Behaviour(status=500))
    chat.send(f"fail on {phrase}", timeout=60.0, **{"X-Request-Id": request_ids[3], "Authorization": auth})
    figures.add("inputs_tried", 4)
    time.sleep(0.5)  # the log line of a stream is written when it ends
    text = reliability_service.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    logged_ids = {line.get("request_id") for line in lines}
    assert set(request_ids) <= logged_ids, set(request_ids) - logged_ids
    assert phrase not in text
    assert token not in text and token.split(".")[2] not in text
    assert "Bearer" not in text
