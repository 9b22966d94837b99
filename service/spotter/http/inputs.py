"""Reading requests as the spec defines them: headers, path ids, query values and JSON bodies.

Each reader collects what is wrong instead of stopping at the first problem, so one 400 names
every invalid input. Bodies are read through Litestar's size-limited stream (413 before the
whole body is read).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from litestar import Request
from litestar.exceptions import InternalServerException

from spotter.http.json_bodies import decode_body
from spotter.http.problems import (
    ClientDisconnected,
    InvalidParam,
    InvalidRequest,
    NotAcceptable,
    UnsupportedMediaType,
)

__all__ = [
    "HeaderReader",
    "accepts_event_stream",
    "parse_date",
    "parse_uuid",
    "read_json_body",
]

T = TypeVar("T")

_VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]{1,255}$")
_DIGITS = re.compile(r"^[0-9]{1,7}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


class HeaderReader:
    """Reads headers one by one, collecting InvalidParam entries for everything wrong."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self._headers = request.headers
        self.errors: list[InvalidParam] = []

    def _single(self, name: str) -> str | None:
        values = self._headers.getall(name, [])
        if len(values) > 1:
            self.errors.append(InvalidParam("header", "must be sent once", name))
            return None
        return values[0] if values else None

    def uuid(self, name: str, *, required: bool) -> uuid.UUID | None:
        raw = self._single(name)
        if raw is None:
            if required and not any(e.name == name for e in self.errors):
                self.errors.append(InvalidParam("header", "is required", name))
            return None
        parsed = parse_uuid(raw)
        if parsed is None:
            self.errors.append(InvalidParam("header", "must be a UUID", name))
        return parsed

    def integer(self, name: str, low: int, high: int) -> int | None:
        raw = self._single(name)
        if raw is None:
            return None
        raw = raw.strip()
        if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
            self.errors.append(InvalidParam("header", f"must be an integer from {low} to {high}", name))
            return None
        return int(raw)

    def token(self, name: str) -> str | None:
        raw = self._single(name)
        if raw is None:
            return None
        if not _VISIBLE_ASCII.fullmatch(raw):
            self.errors.append(InvalidParam("header", "must be 1 to 255 visible ASCII characters", name))
            return None
        return raw

    def timezone(self, name: str) -> str:
        raw = self._single(name)
        if raw is None:
            return "UTC"
        if len(raw) <= 64 and _ZONE.fullmatch(raw):
            try:
                ZoneInfo(raw)
            except (ZoneInfoNotFoundError, ValueError):
                pass
            else:
                return raw
        self.errors.append(InvalidParam("header", "must be an IANA time zone such as Europe/Berlin", name))
        return "UTC"

    def request_id(self) -> None:
        """Validate X-Request-Id (the request context already echoes or replaces it)."""
        raw = self._single("x-request-id")
        if raw is not None and not _REQUEST_ID.fullmatch(raw):
            self.errors.append(InvalidParam("header", "must be 1 to 128 of A-Z a-z 0-9 . _ : -", "X-Request-Id"))

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise InvalidRequest(self.errors)


def parse_uuid(raw: str) -> uuid.UUID | None:
    """A UUID in its canonical text form (hyphenated, 36 characters), or None."""
    if len(raw) != 36:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def parse_date(raw: str | None, name: str, errors: list[InvalidParam]) -> date | None:
    """A `YYYY-MM-DD` query value, or None (recording an error when malformed)."""
    if raw is None:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(InvalidParam("query", "must be a date (YYYY-MM-DD)", name))
        return None


def accepts_event_stream(request: Request[Any, Any, Any]) -> None:
    """Raise NotAcceptable unless `Accept` is absent or allows text/event-stream."""
    accept = request.headers.get("accept")
    if accept is None:
        return
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        params = part.split(";")[1:]
        refused = any(p.strip().replace(" ", "") in {"q=0", "q=0.0", "q=0.00", "q=0.000"} for p in params)
        if media in {"text/event-stream", "text/*", "*/*"} and not refused:
            return
    raise NotAcceptable("this operation answers with text/event-stream")


async def read_json_body(request: Request[Any, Any, Any], model: type[T]) -> T:
    """Decode the body as `model`, or raise 415/400 with what is wrong (413 from the reader).

    Integral numbers such as `5.0` count as integers, as in JSON Schema (see `json_bodies`).
    """
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType("send the body as application/json")
    try:
        body = await request.body()
    except InternalServerException:
        # Litestar's way of saying the client left before sending the whole body: not our fault
        raise ClientDisconnected("the client disconnected before sending the whole body") from None
    try:
        return decode_body(body, model)
    except msgspec.ValidationError as error:
        raise InvalidRequest([InvalidParam("body", str(error), _json_path(str(error)))]) from None
    except msgspec.DecodeError as error:
        raise InvalidRequest([InvalidParam("body", f"not valid JSON: {error}")]) from None
    except UnicodeDecodeError:
        raise InvalidRequest([InvalidParam("body", "not valid UTF-8")]) from None


def _json_path(message: str) -> str | None:
    match = re.search(r"at `([^`]+)`", message)
    return match.group(1) if match else None
