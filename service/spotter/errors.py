"""The one exception tree of Spotter's domain; the HTTP layer maps it to problem+json in one place."""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "ConfigurationError",
    "ConversationBusy",
    "DatabaseUnavailable",
    "IdempotencyConflict",
    "LLMError",
    "NotFound",
    "RateLimited",
    "SpotterError",
]


class SpotterError(Exception):
    """Base of every error Spotter raises on purpose."""


class ConfigurationError(SpotterError):
    """A setting is missing or invalid; raised at start-up, naming the variable."""


class NotFound(SpotterError):
    """The addressed resource does not exist for this user."""


class ConversationBusy(SpotterError):
    """A turn is already streaming in this conversation."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("a turn is already streaming in this conversation")
        self.retry_after = retry_after


class IdempotencyConflict(SpotterError):
    """An Idempotency-Key was reused with a different message."""


class RateLimited(SpotterError):
    """The user sent too many turns or holds too many streams."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BackendUnavailable(SpotterError):
    """A backend the turn cannot run without (memory) is unreachable."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseUnavailable(BackendUnavailable):
    """The workout database is unreachable."""


class LLMError(SpotterError):
    """The language model failed; `code` and `retryable` become the stream's `error` event."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
