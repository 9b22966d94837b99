"""The chat stream's events as tagged msgspec structs, and their Server-Sent Events encoding.

One class per event type, tagged by `type` (equal to the SSE `event` name, as the spec
requires), so an invalid event cannot be built. JSON encoding escapes every control character,
so no text (user message, document, LLM output) can break the `data:` line and forge an event.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "HEARTBEAT",
    "ChatEvent",
    "Checkpoint",
    "Document",
    "DocumentsFound",
    "Done",
    "ErrorEvent",
    "Response",
    "RetrievalStart",
    "encode_event",
    "event_name",
    "scrub_text",
]

#: A comment line; clients and EventSource parsers ignore it. Keeps idle proxies from closing.
HEARTBEAT = b": ping\n\n"

FinishReason = Literal["stop", "length", "interrupted"]


class _Event(msgspec.Struct, frozen=True, tag_field="type"):
    pass


class Checkpoint(_Event, frozen=True, tag="checkpoint"):
    reason: Literal["memory_expired", "memory_evicted", "memory_lost"]
    message: str


class RetrievalStart(_Event, frozen=True, tag="retrieval_start"):
    query: str


class Document(msgspec.Struct, frozen=True):
    id: str
    title: str
    source: Literal["knowledge", "workout"]
    score: float


class DocumentsFound(_Event, frozen=True, tag="documents_found"):
    count: int
    degraded: bool
    documents: tuple[Document, ...]


class Response(_Event, frozen=True, tag="response"):
    delta: str


class Done(_Event, frozen=True, tag="done"):
    turn: int
    finish_reason: FinishReason
    model: str


class ErrorEvent(_Event, frozen=True, tag="error"):
    code: str
    message: str
    retryable: bool


ChatEvent = Checkpoint | RetrievalStart | DocumentsFound | Response | Done | ErrorEvent

_encoder = msgspec.json.Encoder()


def event_name(event: ChatEvent) -> str:
    """The SSE `event` field: the struct's tag."""
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def encode_event(event_id: int, event: ChatEvent) -> bytes:
    """One complete SSE frame: `id`, `event` and a single-line JSON `data`, then a blank line."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        event_id,
        event_name(event).encode(),
        _encoder.encode(event),
    )


def scrub_text(text: str) -> str:
    """`text` with lone surrogates and NUL replaced, so it always encodes as valid UTF-8 JSON."""
    if text.isascii():
        return text.replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
