"""A test client for the chat stream: parses SSE frames and validates each against the spec.

Validation reads the hand-written spec (never the service's own models): the envelope against
`ChatStreamEvent` (the `itemSchema`), the JSON `data` against the `contentSchema` of its branch.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema

from spotter.identity import mint_service_token
from spotter.spec import load_spec

from .service_process import TEST_SECRET

__all__ = ["Chat", "Event", "StreamResult", "parse_sse", "validate_event"]

_SPEC = load_spec()


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    event: str
    data: dict[str, Any]


@dataclass(slots=True)
class StreamResult:
    status: int
    headers: Mapping[str, str]
    events: list[Event] = field(default_factory=list)
    comments: int = 0
    body: bytes = b""

    @property
    def names(self) -> list[str]:
        return [e.event for e in self.events]

    @property
    def text(self) -> str:
        return "".join(e.data["delta"] for e in self.events if e.event == "response")

    @property
    def done(self) -> dict[str, Any]:
        assert self.events and self.events[-1].event == "done", self.names
        return self.events[-1].data

    @property
    def problem(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def _schema(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": _SPEC["components"]}


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = _SPEC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    result: dict[str, Any] = node
    return result


_ENVELOPE = jsonschema.Draft202012Validator(_schema("ChatStreamEvent"))


def validate_event(frame: Mapping[str, str]) -> None:
    """Raise if the frame is not a valid ChatStreamEvent per the spec (envelope and payload)."""
    _ENVELOPE.validate(dict(frame))
    mapping = _SPEC["components"]["schemas"]["ChatStreamEvent"]["discriminator"]["mapping"]
    branch = _resolve(mapping[frame["event"]])
    content_schema = branch["properties"]["data"]["contentSchema"]
    jsonschema.Draft202012Validator({**content_schema, "components": _SPEC["components"]}).validate(
        json.loads(frame["data"])
    )


def parse_sse(body: bytes) -> tuple[list[dict[str, str]], int]:
    """Frames (field -> value) and the number of comment lines, per the SSE grammar."""
    frames: list[dict[str, str]] = []
    comments = 0
    current: dict[str, str] = {}
    for line in body.decode("utf-8").replace("\r\n", "\n").split("\n"):
        if line == "":
            if current:
                frames.append(current)
                current = {}
        elif line.startswith(":"):
            comments += 1
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            current[name] = current[name] + "\n" + value if name == "data" and name in current else value
    return frames, comments


class Chat:
    """One user's view of the service: mints tokens, sends turns, tracks the turn counter."""

    def __init__(self, base_url: str, user: str = "credentials:1", conversation: uuid.UUID | None = None):
        self.base_url = base_url
        self.user = user
        self.conversation = conversation or uuid.uuid4()
        self.turn = 0

    def headers(self, **extra: str) -> dict[str, str]:
        token = mint_service_token(TEST_SECRET, self.user, 300)
        return {
            "Authorization": f"Bearer {token}",
            "X-Conversation-Id": str(self.conversation),
            "X-Conversation-Turn": str(self.turn),
            **extra,
        }

    def send(self, message: str, *, timeout: float = 60.0, **headers: str) -> StreamResult:
        """POST /v1/chat and read the whole stream; every event is checked against the spec."""
        with httpx.stream(
            "POST", f"{self.base_url}/v1/chat", json={"message": message},
            headers=self.headers(**headers), timeout=timeout,
        ) as response:
            body = response.read()
        return self._result(response, body)

    def _result(self, response: httpx.Response, body: bytes) -> StreamResult:
        result = StreamResult(response.status_code, dict(response.headers), body=body)
        if response.status_code == 200:
            frames, result.comments = parse_sse(body)
            for frame in frames:
                validate_event(frame)
                result.events.append(Event(int(frame["id"]), frame["event"], json.loads(frame["data"])))
            if result.events and result.events[-1].event == "done":
                self.turn = result.events[-1].data["turn"]
        return result

    def stream(self, message: str, **headers: str) -> Iterator[Event]:
        """Yield events as they arrive (for disconnect tests); the caller may stop early."""
        with httpx.stream(
            "POST", f"{self.base_url}/v1/chat", json={"message": message},
            headers=self.headers(**headers), timeout=60,
        ) as response:
            assert response.status_code == 200, response.read()
            buffer = b""
            for chunk in response.iter_raw():
                buffer += chunk
                while b"\n\n" in buffer:
                    raw, buffer = buffer.split(b"\n\n", 1)
                    frames, _ = parse_sse(raw + b"\n\n")
                    for frame in frames:
                        validate_event(frame)
                        yield Event(int(frame["id"]), frame["event"], json.loads(frame["data"]))
