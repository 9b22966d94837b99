"""What every language model backend offers the turn pipeline: a stream of text deltas."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from spotter.retrieval.base import RetrievalHit

__all__ = ["ChatMessage", "Finished", "LLMEvent", "LLMRequest", "LanguageModel", "TextDelta"]

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of the conversation as the LLM sees it."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """A complete request: system prompt, history window plus the new user message, token cap.

    `documents` are the retrieved hits already quoted inside `system`; a remote model reads them
    there, the offline responder uses them directly to build a grounded answer.
    """

    system: str
    messages: Sequence[ChatMessage]
    max_tokens: int
    documents: Sequence[RetrievalHit] = ()


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The model ended its answer: `stop` (done) or `length` (hit max_tokens)."""

    reason: Literal["stop", "length"]


LLMEvent = TextDelta | Finished


class LanguageModel(Protocol):
    """A streaming chat model.

    `stream` is an async generator: closing it early (``aclose()``, or cancelling the task that
    iterates it) must close the upstream request promptly. Failures raise `spotter.errors.LLMError`
    with `retryable` set as a resend could or could not help.
    """

    @property
    def model_id(self) -> str:
        """The id reported as `done.model` (`offline` for the offline responder)."""
        ...

    def stream(self, request: LLMRequest) -> AsyncGenerator[LLMEvent, None]:
        """Stream the answer to `request`: `TextDelta`s, then one `Finished`."""
        ...

    async def aclose(self) -> None:
        """Release connections at shutdown."""
        ...
