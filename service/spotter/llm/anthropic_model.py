"""The Anthropic Messages API as a `LanguageModel`: streamed text deltas, errors as `LLMError`.

It iterates the raw server-sent events of ``messages.create(stream=True)`` rather than the SDK's
``messages.stream()`` helper, which accumulates a snapshot of the message on every delta and
costs about twice the CPU per delta (FACTS.md); on this path that cost bounds throughput.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence

import anthropic
import httpx2
from anthropic.types import (
    AssistantMessageParam,
    MessageParam,
    RawContentBlockDeltaEvent,
    RawMessageDeltaEvent,
    RawMessageStopEvent,
    UserMessageParam,
)

from spotter.errors import LLMError
from spotter.llm.base import ChatMessage, Finished, LLMEvent, LLMRequest, TextDelta
from spotter.settings import Settings

__all__ = ["AnthropicModel"]

_log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.anthropic.com"
# Connecting should be quick even when answers are slow; the read timeout (the configured one)
# bounds the wait for each piece of the stream, so a stream that stalls mid-way fails too.
_CONNECT_TIMEOUT_SECONDS = 10.0
_KEEPALIVE_CONNECTIONS = 100  # idle connections kept for the next turns


class AnthropicModel:
    """Streams answers from Claude; one client (and connection pool) per process."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str = "",
        timeout_seconds: float = 60.0,
        max_connections: int = 10_000,
    ) -> None:
        self._model = model
        self._client = anthropic.AsyncAnthropic(
            # One connection per streaming turn: the SDK's default pool (1,000) would make turn
            # 1,001 of one process wait for a slot until it times out.
            http_client=anthropic.DefaultAsyncHttpxClient(
                limits=httpx2.Limits(
                    max_connections=max_connections,
                    max_keepalive_connections=min(max_connections, _KEEPALIVE_CONNECTIONS),
                )
            ),
            api_key=api_key,
            # Passed explicitly (never None) so the SDK does not read ANTHROPIC_BASE_URL itself.
            base_url=base_url or DEFAULT_BASE_URL,
            timeout=anthropic.Timeout(
                timeout_seconds, connect=min(timeout_seconds, _CONNECT_TIMEOUT_SECONDS)
            ),
            # Retrying is the turn pipeline's decision (it knows whether text was already sent).
            max_retries=0,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> AnthropicModel:
        """Build from `SPOTTER_ANTHROPIC_MODEL`, `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, ..."""
        return cls(
            api_key=settings.anthropic_api_key,
            model=settings.anthropic_model,
            base_url=settings.anthropic_base_url,
            timeout_seconds=settings.llm_timeout_seconds,
            max_connections=settings.llm_max_connections,
        )

    @property
    def model_id(self) -> str:
        """The configured Claude model."""
        return self._model

    async def stream(self, request: LLMRequest) -> AsyncGenerator[LLMEvent, None]:
        """Stream `request`'s answer; closing this generator closes the HTTP response."""
        messages = _message_params(request.messages)
        try:
            events = await self._client.messages.create(
                model=self._model,
                max_tokens=request.max_tokens,
                system=request.system or anthropic.omit,
                messages=messages,
                stream=True,
            )
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise _llm_error(exc) from exc
        stop_reason: str | None = None
        try:
            async for event in events:
                if isinstance(event, RawContentBlockDeltaEvent):
                    if event.delta.type == "text_delta" and event.delta.text:
                        yield TextDelta(event.delta.text)
                elif isinstance(event, RawMessageDeltaEvent):
                    stop_reason = event.delta.stop_reason
                elif isinstance(event, RawMessageStopEvent):
                    yield Finished("length" if stop_reason == "max_tokens" else "stop")
                    return
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise _llm_error(exc) from exc
        finally:
            # Runs on completion, on error, on aclose() and on cancellation alike.
            await events.close()
        raise LLMError("llm_unavailable", "the model's stream ended before message_stop",
                       retryable=True)

    async def aclose(self) -> None:
        """Close the HTTP client and its connections."""
        await self._client.close()


def _message_params(messages: Sequence[ChatMessage]) -> list[MessageParam]:
    """The history as the API accepts it: no empty text, strictly alternating, user first.

    Memory should already hold such a history; this keeps a stray empty or doubled message (say,
    an assistant turn that failed before its first token) from turning every later turn into a
    400.
    """
    turns: list[tuple[str, str]] = []  # (role, text)
    for message in messages:
        if not message.content.strip() or (not turns and message.role != "user"):
            continue
        if turns and turns[-1][0] == message.role:
            turns[-1] = (message.role, f"{turns[-1][1]}\n\n{message.content}")
        else:
            turns.append((message.role, message.content))
    if not turns or turns[-1][0] != "user":
        raise LLMError("llm_bad_request", "the request has no user message to answer",
                       retryable=False)
    return [
        UserMessageParam(role="user", content=text)
        if role == "user"
        else AssistantMessageParam(role="assistant", content=text)
        for role, text in turns
    ]


_STATUS_ERRORS: dict[str, tuple[str, bool]] = {
    # Anthropic's documented `error.type` values -> (code, retryable).
    "authentication_error": ("llm_auth", False),
    "permission_error": ("llm_auth", False),
    "rate_limit_error": ("llm_rate_limited", True),
    "overloaded_error": ("llm_overloaded", True),
    "api_error": ("llm_unavailable", True),
    "timeout_error": ("llm_timeout", True),
    "invalid_request_error": ("llm_bad_request", False),
    "request_too_large": ("llm_bad_request", False),
    "not_found_error": ("llm_bad_request", False),
    "billing_error": ("llm_auth", False),
}


def _llm_error(exc: anthropic.AnthropicError | httpx2.HTTPError) -> LLMError:
    """Translate an SDK or transport failure into Spotter's `LLMError`."""
    _log.warning("anthropic request failed: %s: %s", type(exc).__name__, exc)
    if isinstance(exc, anthropic.APIStatusError):
        code, retryable = _status_error(exc.status_code, exc.type)
        status = "mid-stream" if exc.status_code == 200 else f"HTTP {exc.status_code}"
        return LLMError(code, f"the model provider failed ({status}, {exc.type or 'error'})",
                        retryable=retryable)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return LLMError("llm_timeout", "the model provider did not answer in time", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return LLMError("llm_unavailable", "the model provider is unreachable", retryable=True)
    return LLMError("llm_unavailable", f"the model provider failed ({type(exc).__name__})",
                    retryable=True)


def _status_error(status: int, error_type: str | None) -> tuple[str, bool]:
    if status == 529 or error_type == "overloaded_error":
        return "llm_overloaded", True
    if status in (401, 403):
        return "llm_auth", False
    if status == 429:
        return "llm_rate_limited", True
    if status in (408, 504):
        return "llm_timeout", True
    if status >= 500:
        return "llm_unavailable", True
    if error_type in _STATUS_ERRORS:
        return _STATUS_ERRORS[error_type]
    if status == 200:  # an `event: error` of a type this code does not know yet
        return "llm_unavailable", True
    return "llm_bad_request", False
