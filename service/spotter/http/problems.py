"""RFC 9457 problem responses: every error the API answers, mapped from exceptions in one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

from spotter.errors import (
    BackendUnavailable,
    ConversationBusy,
    DatabaseUnavailable,
    IdempotencyConflict,
    NotFound,
    RateLimited,
    SpotterError,
)
from spotter.identity import InvalidToken
from spotter.observability import current_request_id
from spotter.turns.coordinator import Draining

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ClientDisconnected",
    "InvalidParam",
    "InvalidRequest",
    "exception_handlers",
    "problem",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
Location = Literal["body", "header", "path", "query"]

logger = logging.getLogger(__name__)


class InvalidParam(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing wrong with a request."""

    location: Location
    message: str
    name: str | None = None


class InvalidRequest(SpotterError):
    """The request breaks the spec; carries every problem found."""

    def __init__(self, errors: Sequence[InvalidParam]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the request")
        self.errors = tuple(errors)


class UnsupportedMediaType(SpotterError):
    """The body is not JSON."""


class ClientDisconnected(SpotterError):
    """The client went away mid-request; answered 400 for the record (nobody reads it)."""


class NotAcceptable(SpotterError):
    """The client does not accept what the operation answers with."""


class _Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str | None = None
    request_id: str | None = None
    errors: tuple[InvalidParam, ...] | None = None
    checks: Mapping[str, str] | None = None


_encoder = msgspec.json.Encoder()


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str | None = None,
    *,
    errors: Sequence[InvalidParam] | None = None,
    checks: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[bytes]:
    """A problem+json response of type `urn:spotter:problem:<kind>`."""
    body = _Problem(
        type=f"urn:spotter:problem:{kind}",
        title=title,
        status=status,
        detail=detail,
        request_id=current_request_id(),
        errors=tuple(errors) if errors else None,
        checks=checks,
    )
    return Response(
        _encoder.encode(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {})
    )


_HTTP_KINDS = {
    400: ("validation", "Invalid request"),
    401: ("unauthorized", "Unauthorized"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _spotter_error(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    match error:
        case InvalidRequest():
            return problem(400, "validation", "Invalid request", str(error), errors=error.errors)
        case InvalidToken():
            return problem(401, "unauthorized", "Unauthorized", "a valid bearer service token is required",
                           headers={"WWW-Authenticate": 'Bearer realm="spotter"'})
        case ClientDisconnected():
            logger.info("client disconnected before sending the whole body")
            return problem(400, "validation", "Invalid request", str(error),
                           errors=[InvalidParam("body", "incomplete: the client disconnected")])
        case NotFound():
            return problem(404, "not-found", "Not found", str(error))
        case NotAcceptable():
            return problem(406, "not-acceptable", "Not acceptable", str(error))
        case ConversationBusy():
            return problem(409, "conversation-busy", "Conversation busy", str(error),
                           headers={"Retry-After": str(error.retry_after)})
        case UnsupportedMediaType():
            return problem(415, "unsupported-media-type", "Unsupported media type", str(error))
        case IdempotencyConflict():
            return problem(422, "idempotency-mismatch", "Idempotency key reused", str(error))
        case RateLimited():
            return problem(429, "rate-limited", "Too many requests", str(error),
                           headers={"Retry-After": str(error.retry_after)})
        case Draining():
            return problem(503, "draining", "Shutting down", str(error),
                           headers={"Retry-After": str(error.retry_after)})
        case DatabaseUnavailable():
            return problem(503, "database-unavailable", "Database unavailable", str(error),
                           headers={"Retry-After": str(error.retry_after)})
        case BackendUnavailable():
            return problem(503, "memory-unavailable", "Memory unavailable", str(error),
                           headers={"Retry-After": str(error.retry_after)})
    logger.error("unmapped domain error %s", type(error).__name__)
    return problem(503, "not-ready", "Not ready", "the service could not handle the request",
                   headers={"Retry-After": "1"})


def _http_error(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    assert isinstance(error, HTTPException)
    status = error.status_code
    kind, title = _HTTP_KINDS.get(status, ("validation", "Invalid request"))
    headers = dict(error.headers or {})
    if status == 400:
        return problem(400, kind, title, error.detail,
                       errors=[InvalidParam("body", error.detail or "invalid request")], headers=headers)
    if status == 413:
        return problem(413, kind, title, "the body is larger than the service accepts", headers=headers)
    if status >= 500:
        logger.error("HTTP %s: %s", status, error.detail)
    return problem(status, kind, title, error.detail, headers=headers)


def _unexpected(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    # Deliberately not dressed up as a documented status: contract fuzzing must see a bug as one.
    logger.error("unexpected error", exc_info=error)
    return problem(500, "internal", "Internal error", "an unexpected error occurred")


def exception_handlers() -> ExceptionHandlersMap:
    """The single map from exceptions to problem responses."""
    return {SpotterError: _spotter_error, HTTPException: _http_error, Exception: _unexpected}
