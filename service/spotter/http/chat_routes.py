"""`POST /v1/chat` and conversation control: translate HTTP to the turn coordinator and back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import Stream

from spotter.http.auth import authenticated_user
from spotter.http.inputs import HeaderReader, accepts_event_stream, parse_uuid, read_json_body
from spotter.http.problems import InvalidParam, InvalidRequest
from spotter.memory.model import ConversationKey
from spotter.services import Services
from spotter.settings import MAX_MESSAGE_CHARS
from spotter.text_patterns import NOT_BLANK
from spotter.turns.coordinator import TurnStream
from spotter.turns.plan import TurnRequest

__all__ = ["ChatRequest", "cancel_turn", "chat", "forget_conversation"]

STREAM_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}


class ChatRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The spec's ChatRequest: one message, 1..4000 code points, not only white space."""

    message: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=NOT_BLANK)]


def _services(request: Request[Any, Any, Any]) -> Services:
    services: Services = request.app.state.services
    return services


@post("/v1/chat", status_code=200)
async def chat(request: Request[Any, Any, Any]) -> Stream:
    """Run one turn and stream its events."""
    services = _services(request)
    user_id = authenticated_user(request, services.settings.auth_secret)
    headers = HeaderReader(request)
    conversation_id = headers.uuid("x-conversation-id", required=True)
    client_turn = headers.integer("x-conversation-turn", 0, 1_000_000)
    idempotency_key = headers.token("idempotency-key")
    last_event_id = headers.integer("last-event-id", 0, 1_000_000)
    timezone = headers.timezone("x-timezone")
    headers.request_id()
    if last_event_id is not None and idempotency_key is None:
        headers.errors.append(InvalidParam("header", "is only allowed with Idempotency-Key", "Last-Event-ID"))
    headers.raise_if_invalid()
    accepts_event_stream(request)
    body = await read_json_body(request, ChatRequest)
    if len(body.message) > services.settings.max_message_chars:
        limit = services.settings.max_message_chars
        raise InvalidRequest([InvalidParam("body", f"must be at most {limit} characters", "$.message")])
    assert conversation_id is not None
    key = ConversationKey(user_id, conversation_id)
    stream = await services.coordinator.start(
        TurnRequest(key, body.message, client_turn, idempotency_key, last_event_id, timezone)
    )
    response_headers = {**STREAM_HEADERS, "X-Conversation-Id": str(conversation_id)}
    frames = _counted(stream, services)

    async def after_response() -> None:
        # A disconnect cancels the body task wherever it waits: inside a backed-up write the
        # frames are left suspended (closed only when garbage collection finds them), before its
        # first step they never start. Either way the turn must stop now, not minutes later.
        await frames.aclose()
        stream.reader_gone()

    return Stream(frames, media_type="text/event-stream", headers=response_headers,
                  background=BackgroundTask(after_response))


async def _counted(stream: TurnStream, services: Services) -> AsyncGenerator[bytes, None]:
    gauge = services.metrics.open_streams
    gauge.inc()
    try:
        async with contextlib.aclosing(stream.frames()) as frames:
            async for frame in frames:
                yield frame
    finally:
        gauge.dec()


def _conversation_key(request: Request[Any, Any, Any], conversation_id: FromPath[str]) -> ConversationKey:
    services = _services(request)
    user_id = authenticated_user(request, services.settings.auth_secret)
    headers = HeaderReader(request)
    headers.request_id()
    parsed = parse_uuid(conversation_id)
    if parsed is None:
        headers.errors.append(InvalidParam("path", "must be a UUID", "conversation_id"))
    headers.raise_if_invalid()
    assert parsed is not None
    return ConversationKey(user_id, parsed)


@post("/v1/conversations/{conversation_id:str}/cancel", status_code=204)
async def cancel_turn(request: Request[Any, Any, Any], conversation_id: FromPath[str]) -> None:
    """Stop the conversation's streaming turn; 204 whether or not one was streaming."""
    key = _conversation_key(request, conversation_id)
    await _services(request).coordinator.cancel(key)


@delete("/v1/conversations/{conversation_id:str}", status_code=204)
async def forget_conversation(request: Request[Any, Any, Any], conversation_id: FromPath[str]) -> None:
    """Erase the conversation's memory, tombstone and replay data; cancels a streaming turn."""
    key = _conversation_key(request, conversation_id)
    await _services(request).coordinator.forget(key)
