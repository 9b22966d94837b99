"""Stream one Spotter chat turn and parse each event into the generated client's payload models.

openapi-python-client generates models for every event payload (`DonePayload`, ...), but it
cannot stream: its `chat` operation reads the whole body as a string. This is the small helper a
team writes around the generated package: `httpx` streaming on the generated client's own httpx
client, an SSE frame parser, and a map from the `event` name to the generated model.

    client = AuthenticatedClient(base_url="https://web.example/api", token="spt_...")
    for event in stream_turn(client, conversation_id=cid, message="Hi", turn=0):
        ...  # event.payload is a DonePayload, ResponsePayload, ... instance
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_MODELS", "ChatProblem", "TurnEvent", "stream_turn"]

#: SSE `event` name -> the generated model of its JSON `data`.
EVENT_MODELS = {
    "checkpoint": "CheckpointPayload",
    "retrieval_start": "RetrievalStartPayload",
    "documents_found": "DocumentsFoundPayload",
    "response": "ResponsePayload",
    "done": "DonePayload",
    "error": "ErrorPayload",
}


@dataclass(frozen=True)
class TurnEvent:
    """One event: its id (resume after it with Last-Event-ID), name and generated payload model."""

    id: int
    event: str
    payload: Any


class ChatProblem(Exception):
    """The turn was refused before it started; `problem` is the generated Problem model."""

    def __init__(self, status: int, problem: Any) -> None:
        super().__init__(f"{status}: {problem.title}")
        self.status = status
        self.problem = problem


def _frames(chunks: Iterator[str]) -> Iterator[dict[str, str]]:
    buffer = ""
    for chunk in chunks:
        buffer += chunk.replace("\r\n", "\n")
        while "\n\n" in buffer:
            raw, buffer = buffer.split("\n\n", 1)
            fields: dict[str, str] = {}
            for line in raw.split("\n"):
                if not line or line.startswith(":"):  # heartbeats (": ping") are comments
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value
            if fields:
                yield fields


def stream_turn(
    client: Any,
    *,
    conversation_id: str,
    message: str,
    turn: int,
    idempotency_key: str | None = None,
    last_event_id: int | None = None,
    package: str | None = None,
) -> Iterator[TurnEvent]:
    """POST /v1/chat and yield each event as it arrives, parsed into the generated models."""
    models = importlib.import_module(f"{package or type(client).__module__.rsplit('.', 1)[0]}.models")
    headers = {
        "Accept": "text/event-stream",
        "X-Conversation-Id": conversation_id,
        "X-Conversation-Turn": str(turn),
    }
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    body = models.ChatRequest(message=message).to_dict()
    with client.get_httpx_client().stream("POST", "/v1/chat", json=body, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            raise ChatProblem(response.status_code, models.Problem.from_dict(response.json()))
        for frame in _frames(response.iter_text()):
            model = getattr(models, EVENT_MODELS[frame["event"]])
            yield TurnEvent(int(frame["id"]), frame["event"], model.from_dict(json.loads(frame["data"])))
