"""Newest-first keyset paging of a user's log, and the opaque cursor that continues a page.

The log is ordered by (date desc, created_at desc, id desc). That key is unique per row, so a
page continues strictly after the last row it returned: no duplicates or gaps across pages, even
when many workouts share a date or rows are added while a client pages. The cursor is that last
row's key, base64url-encoded; both repositories share this module so their cursors agree.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import msgspec

from spotter.workouts.model import Workout

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "TOP_OF_LIST",
    "InvalidCursor",
    "PageRequest",
    "SortKey",
    "WorkoutPage",
    "datetime_from_microseconds",
    "decode_cursor",
    "encode_cursor",
    "microseconds_since_epoch",
    "page_of",
    "page_request",
]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_CHARS = 200  # a real cursor is about 100 characters; longer input is not ours

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class InvalidCursor(ValueError):
    """The `cursor` is not one this service made (the HTTP layer answers 400)."""


@dataclass(frozen=True, slots=True)
class SortKey:
    """Where a row sits in the newest-first order: (date, created_at, id), compared in order."""

    date: date
    created_at: datetime
    id: str

    @classmethod
    def of(cls, workout: Workout) -> SortKey:
        """The key of a stored workout."""
        return cls(workout.date, workout.created_at, workout.id)


#: Sorts before every row in newest-first order, so "after TOP_OF_LIST" is the first page.
TOP_OF_LIST = SortKey(date.max, datetime.max.replace(tzinfo=UTC), str(uuid.UUID(int=(1 << 128) - 1)))


class WorkoutPage(msgspec.Struct, frozen=True):
    """One page of a user's log, newest first; `next_cursor` is None on the last page."""

    items: tuple[Workout, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated list request: rows strictly after `after`, dated within the inclusive range."""

    limit: int
    after: SortKey
    date_from: date
    date_to: date


def page_request(limit: int, cursor: str | None, date_from: date | None, date_to: date | None) -> PageRequest:
    """Validated list arguments; InvalidCursor for a bad cursor, ValueError for a bad limit."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return PageRequest(
        limit=limit,
        after=TOP_OF_LIST if cursor is None else decode_cursor(cursor),
        date_from=date.min if date_from is None else date_from,
        date_to=date.max if date_to is None else date_to,
    )


def page_of(rows: Sequence[Workout], limit: int) -> WorkoutPage:
    """The page for rows fetched with `limit + 1`: the extra row only proves there is more."""
    items = tuple(rows[:limit])
    if len(rows) <= limit:
        return WorkoutPage(items=items, next_cursor=None)
    return WorkoutPage(items=items, next_cursor=encode_cursor(SortKey.of(items[-1])))


def microseconds_since_epoch(instant: datetime) -> int:
    """An aware datetime as whole microseconds since 1970-01-01 UTC (how SQLite stores it)."""
    return (instant - _EPOCH) // _MICROSECOND


def datetime_from_microseconds(value: int) -> datetime:
    """The UTC datetime `value` microseconds after the epoch; OverflowError if out of range."""
    return _EPOCH + timedelta(microseconds=value)


_CursorFields = tuple[date, int, uuid.UUID]
_cursor_decoder = msgspec.json.Decoder(_CursorFields)
_cursor_encoder = msgspec.json.Encoder()


def encode_cursor(key: SortKey) -> str:
    """An opaque, URL-safe cursor continuing after `key`."""
    raw = _cursor_encoder.encode((key.date, microseconds_since_epoch(key.created_at), key.id))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> SortKey:
    """The key a cursor continues after; InvalidCursor if it is not one `encode_cursor` made."""
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("cursor is empty or too long")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        day, micros, row_id = _cursor_decoder.decode(raw)
        created_at = datetime_from_microseconds(micros)
    except (binascii.Error, ValueError, UnicodeEncodeError, msgspec.DecodeError, OverflowError):
        raise InvalidCursor("cursor is malformed; use the next_cursor of a previous page") from None
    return SortKey(day, created_at, str(row_id))
