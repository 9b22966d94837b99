"""AnthropicModel against a loopback server speaking Anthropic's streaming wire format."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from spotter.errors import LLMError
from spotter.llm.anthropic_model import AnthropicModel
from spotter.llm.base import ChatMessage, Finished, LLMEvent, LLMRequest, TextDelta
from spotter.llm.factory import build_language_model
from spotter.settings import Settings
from tests.support.anthropic_server import AnthropicServer, Behaviour

MODEL = "claude-sonnet-4-6"
API_KEY = "test-key"


@pytest.fixture(scope="module")
def server() -> Iterator[AnthropicServer]:
    with AnthropicServer(api_key=API_KEY) as running:
        yield running


@pytest.fixture
def upstream(server: AnthropicServer) -> AnthropicServer:
    server.reset()
    return server


@pytest.fixture
async def model(upstream: AnthropicServer) -> AsyncIterator[AnthropicModel]:
    built = AnthropicModel(api_key=API_KEY, model=MODEL, base_url=upstream.base_url,
                           timeout_seconds=5)
    yield built
    await built.aclose()


def ask(text: str = "How do I squat?", *, max_tokens: int = 256) -> LLMRequest:
    return LLMRequest(system="You are a coach.", messages=[ChatMessage("user", text)],
                      max_tokens=max_tokens)


async def collect(model: AnthropicModel, request: LLMRequest) -> list[LLMEvent]:
    return [event async for event in model.stream(request)]


async def collect_into(received: list[LLMEvent], model: AnthropicModel, request: LLMRequest) -> None:
    """Like `collect`, but what arrived before a failure stays visible in `received`."""
    async for event in model.stream(request):
        received.append(event)


async def test_streams_text_deltas_then_stop(model: AnthropicModel, upstream: AnthropicServer) -> None:
    upstream.script(Behaviour(text="Brace, sit back, drive up.", deltas=4))
    events = await collect(model, ask())
    assert events[-1] == Finished("stop")
    deltas = [e.text for e in events[:-1] if isinstance(e, TextDelta)]
    assert len(deltas) == 4 == len(events) - 1
    assert "".join(deltas) == "Brace, sit back, drive up."
    assert model.model_id == MODEL


async def test_sends_the_system_prompt_and_history_exactly(
    model: AnthropicModel, upstream: AnthropicServer
) -> None:
    history = [
        ChatMessage("user", "I have a bad left knee."),
        ChatMessage("assistant", "Noted, we will go easy on it."),
        ChatMessage("user", "What leg exercises can I do?"),
    ]
    request = LLMRequest(system="SYSTEM PROMPT", messages=history, max_tokens=321)
    events = await collect(model, request)
    assert events[-1] == Finished("stop")
    (sent,) = upstream.requests
    assert sent.status == 200
    assert sent.body["model"] == MODEL
    assert sent.body["max_tokens"] == 321
    assert sent.body["stream"] is True
    assert sent.body["system"] == "SYSTEM PROMPT"
    assert sent.body["messages"] == [{"role": m.role, "content": m.content} for m in history]
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["anthropic-version"]


async def test_never_sends_empty_text_or_broken_alternation(
    model: AnthropicModel, upstream: AnthropicServer
) -> None:
    history = [
        ChatMessage("assistant", "Welcome back!"),  # a greeting cannot open the history
        ChatMessage("user", "First question"),
        ChatMessage("assistant", "   "),  # a turn that failed before its first token
        ChatMessage("user", "Second question"),
    ]
    events = await collect(model, LLMRequest(system="", messages=history, max_tokens=50))
    assert events[-1] == Finished("stop")
    (sent,) = upstream.requests
    assert sent.status == 200  # the server enforces the API's rules; it accepted this
    assert sent.body["messages"] == [{"role": "user", "content": "First question\n\nSecond question"}]
    assert "system" not in sent.body


async def test_a_history_without_a_user_message_is_rejected_before_sending(
    model: AnthropicModel, upstream: AnthropicServer
) -> None:
    request = LLMRequest(system="s", messages=[ChatMessage("user", " ")], max_tokens=10)
    with pytest.raises(LLMError) as caught:
        await collect(model, request)
    assert (caught.value.code, caught.value.retryable) == ("llm_bad_request", False)
    assert upstream.requests == []


async def test_a_request_the_api_rejects_is_a_bad_request(
    model: AnthropicModel, upstream: AnthropicServer
) -> None:
    with pytest.raises(LLMError) as caught:
        await collect(model, ask(max_tokens=0))
    assert (caught.value.code, caught.value.retryable) == ("llm_bad_request", False)
    assert upstream.requests[-1].status == 400


async def test_stop_reason_max_tokens_finishes_with_length(
    model: AnthropicModel, upstream: AnthropicServer
) -> None:
    upstream.script(Behaviour(text="one two three", stop_reason="max_tokens"))
    events = await collect(model, ask())
    assert events == [TextDelta("one"), TextDelta(" two"), TextDelta(" three"), Finished("length")]


@pytest.mark.parametrize(
    ("behaviour", "code", "retryable"),
    [
        (Behaviour(status=429, retry_after=7), "llm_rate_limited", True),
        (Behaviour(status=529), "llm_overloaded", True),
        (Behaviour(status=500, error_type="overloaded_error"), "llm_overloaded", True),
        (Behaviour(status=500), "llm_unavailable", True),
        (Behaviour(status=503), "llm_unavailable", True),
        (Behaviour(status=401), "llm_auth", False),
        (Behaviour(status=403), "llm_auth", False),
        (Behaviour(status=400), "llm_bad_request", False),
    ],
    ids=["429", "529", "500-overloaded", "500", "503", "401", "403", "400"],
)
async def test_failures_before_the_first_token_map_to_llm_errors(
    model: AnthropicModel, upstream: AnthropicServer, behaviour: Behaviour, code: str,
    retryable: bool
) -> None:
    upstream.script(behaviour)
    with pytest.raises(LLMError) as caught:
        await collect(model, ask())
    assert (caught.value.code, caught.value.retryable) == (code, retryable)
    assert upstream.requests[-1].status == behaviour.status


async def test_a_wrong_api_key_is_an_auth_error(upstream: AnthropicServer) -> None:
    model = AnthropicModel(api_key="wrong", model=MODEL, base_url=upstream.base_url)
    try:
        with pytest.raises(LLMError) as caught:
            await collect(model, ask())
    finally:
        await model.aclose()
    assert (caught.value.code, caught.value.retryable) == ("llm_auth", False)
    assert upstream.requests[-1].status == 401


@pytest.mark.parametrize(
    ("error_type", "code"),
    [("overloaded_error", "llm_overloaded"), ("api_error", "llm_unavailable"),
     ("rate_limit_error", "llm_rate_limited")],
)
async def test_an_error_event_mid_stream_raises_after_the_text_so_far(
    model: AnthropicModel, upstream: AnthropicServer, error_type: str, code: str
) -> None:
    upstream.script(Behaviour(text="alpha beta gamma delta", error_after=2, error_type=error_type))
    received: list[LLMEvent] = []
    with pytest.raises(LLMError) as caught:
        await collect_into(received, model, ask())
    assert received == [TextDelta("alpha"), TextDelta(" beta")]
    assert (caught.value.code, caught.value.retryable) == (code, True)


async def test_a_stream_that_stalls_mid_way_times_out(upstream: AnthropicServer) -> None:
    model = AnthropicModel(api_key=API_KEY, model=MODEL, base_url=upstream.base_url,
                           timeout_seconds=0.3)
    upstream.script(Behaviour(text="alpha beta gamma", hang_after=1))
    received: list[LLMEvent] = []
    started = time.monotonic()
    try:
        with pytest.raises(LLMError) as caught:
            await collect_into(received, model, ask())
    finally:
        await model.aclose()
    assert received == [TextDelta("alpha")]
    assert (caught.value.code, caught.value.retryable) == ("llm_timeout", True)
    assert 0.25 < time.monotonic() - started < 3
    assert upstream.wait_for(lambda s: s.open_streams == 0, within=1)


async def test_a_stream_cut_off_before_message_stop_is_unavailable() -> None:
    with AnthropicServer(api_key=API_KEY) as own:
        own.script(Behaviour(text="alpha beta gamma", hang_after=1))
        model = AnthropicModel(api_key=API_KEY, model=MODEL, base_url=own.base_url)
        stream = model.stream(ask())
        try:
            assert await anext(stream) == TextDelta("alpha")
            await asyncio.to_thread(own.stop)  # ends the response without message_stop
            with pytest.raises(LLMError) as caught:
                await anext(stream)
        finally:
            await model.aclose()
    assert (caught.value.code, caught.value.retryable) == ("llm_unavailable", True)


async def test_no_response_headers_in_time_is_a_timeout(upstream: AnthropicServer) -> None:
    model = AnthropicModel(api_key=API_KEY, model=MODEL, base_url=upstream.base_url,
                           timeout_seconds=0.3)
    upstream.script(Behaviour(headers_delay=10))
    try:
        with pytest.raises(LLMError) as caught:
            await collect(model, ask())
    finally:
        await model.aclose()
    assert (caught.value.code, caught.value.retryable) == ("llm_timeout", True)


async def test_an_unreachable_provider_is_unavailable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = AnthropicModel(api_key=API_KEY, model=MODEL, base_url=f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(LLMError) as caught:
            await collect(model, ask())
    finally:
        await model.aclose()
    assert (caught.value.code, caught.value.retryable) == ("llm_unavailable", True)


async def test_closing_the_stream_early_closes_the_upstream_response(
    model: AnthropicModel, upstream: AnthropicServer
) -> None:
    upstream.script(Behaviour(text=" ".join(["word"] * 200), delay=0.05))
    stream = model.stream(ask())
    assert isinstance(await anext(stream), TextDelta)
    assert upstream.open_streams == 1
    closed_by_client_at = time.monotonic()
    await stream.aclose()
    assert await upstream.wait_for_async(lambda s: s.open_streams == 0, within=1)
    (record,) = upstream.streams
    assert record.client_disconnected
    assert record.closed_at is not None
    assert record.closed_at - closed_by_client_at < 1
    assert record.deltas_sent < 200


async def test_cancelling_the_consumer_closes_a_silent_upstream_response(
    model: AnthropicModel, upstream: AnthropicServer
) -> None:
    upstream.script(Behaviour(text="alpha beta", hang_after=1))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in model.stream(ask()):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 2)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await upstream.wait_for_async(lambda s: s.open_streams == 0, within=1)
    (record,) = upstream.streams
    assert record.client_disconnected
    assert record.closed_at is not None
    assert record.closed_at - cancelled_at < 1


async def test_the_factory_builds_the_configured_anthropic_model(upstream: AnthropicServer) -> None:
    settings = Settings(llm="anthropic", anthropic_api_key=API_KEY, anthropic_model=MODEL,
                        anthropic_base_url=upstream.base_url)
    model = build_language_model(settings)
    try:
        assert isinstance(model, AnthropicModel)
        assert model.model_id == MODEL
        events = [event async for event in model.stream(ask("ping"))]
    finally:
        await model.aclose()
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "You said: ping"


@pytest.mark.parametrize("max_connections", [2, 3])
async def test_the_connection_pool_holds_as_many_streams_as_configured(
    upstream: AnthropicServer, max_connections: int
) -> None:
    """A streaming turn holds its connection until it ends; a full pool makes the next turn wait."""
    model = AnthropicModel(api_key=API_KEY, model=MODEL, base_url=upstream.base_url,
                           timeout_seconds=0.5, max_connections=max_connections)
    held = [model.stream(ask()) for _ in range(2)]
    third = model.stream(ask())
    try:
        for stream in held:
            assert isinstance(await anext(stream), TextDelta)  # mid-answer: its connection is in use
        if max_connections == 2:
            with pytest.raises(LLMError) as caught:
                await anext(third)
            assert caught.value.code == "llm_timeout"  # waited for a pool slot, never sent
        else:
            assert isinstance(await anext(third), TextDelta)
    finally:
        for stream in [*held, third]:
            await stream.aclose()
        await model.aclose()
