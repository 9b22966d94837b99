"""Newest-first keyset paging of a user's log, and the cursor that continues a page.

The log is ordered by (date desc, created_at desc, id desc). That key is unique per row, so a
page continues strictly after the last row it returned: no duplicates or gaps across pages, even
when many workouts share a date or rows are added while a client pages. The cursor is a position
in that order: the key packed into 27 bytes and written as 36 base64url characters. Because 36 is
a multiple of 4, every string of that shape decodes to 27 bytes with no padding or spare bits, and
every 27 bytes name a position (out-of-range fields are clamped without changing the order), so
any cursor matching the spec's pattern is valid. Both repositories share this module so their
cursors agree.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import msgspec

from spotter.workouts.model import Workout

__all__ = [
    "BOTTOM_OF_LIST",
    "CURSOR_PATTERN",
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
#: The shape of every cursor, as the spec's `cursor` parameter states it (same in ECMA-262 and Python).
CURSOR_PATTERN = "^[A-Za-z0-9_-]{36}$"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class InvalidCursor(ValueError):
    """The `cursor` does not have the shape of a cursor (the HTTP layer answers 400)."""


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


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_LOWEST_ID = str(uuid.UUID(int=0))
_HIGHEST_ID = str(uuid.UUID(int=(1 << 128) - 1))

#: Sorts before every row in newest-first order, so "after TOP_OF_LIST" is the first page.
TOP_OF_LIST = SortKey(date.max, _LATEST, _HIGHEST_ID)
#: Sorts after every row, so "after BOTTOM_OF_LIST" is an empty last page.
BOTTOM_OF_LIST = SortKey(date.min, _EARLIEST, _LOWEST_ID)


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


_CURSOR = re.compile(CURSOR_PATTERN)  # used with fullmatch, so `$` cannot accept a trailing newline
# Layout, big-endian: day number (date.toordinal), microseconds since the epoch (signed), UUID.
_DAY_BYTES, _MICROSECOND_BYTES, _ID_BYTES = 3, 8, 16
_FIRST_DAY, _LAST_DAY = date.min.toordinal(), date.max.toordinal()
_EARLIEST_US, _LATEST_US = microseconds_since_epoch(_EARLIEST), microseconds_since_epoch(_LATEST)


def encode_cursor(key: SortKey) -> str:
    """The 36-character, URL-safe cursor continuing after `key`."""
    raw = (
        key.date.toordinal().to_bytes(_DAY_BYTES, "big")
        + microseconds_since_epoch(key.created_at).to_bytes(_MICROSECOND_BYTES, "big", signed=True)
        + uuid.UUID(key.id).bytes
    )
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(cursor: str) -> SortKey:
    """The position a cursor continues after; InvalidCursor only if it does not match CURSOR_PATTERN."""
    if not _CURSOR.fullmatch(cursor):
        raise InvalidCursor("cursor must be 36 characters of A-Z a-z 0-9 - _; use the next_cursor of a page")
    raw = base64.urlsafe_b64decode(cursor)
    day = int.from_bytes(raw[:_DAY_BYTES], "big")
    micros = int.from_bytes(raw[_DAY_BYTES:-_ID_BYTES], "big", signed=True)
    return _position(day, micros, uuid.UUID(bytes=raw[-_ID_BYTES:]))


def _position(day: int, micros: int, row_id: uuid.UUID) -> SortKey:
    """The key of these fields, clamped so that a field out of range keeps its place in the order.

    A day or instant beyond what dates can hold is replaced by the nearest key on the same side of
    every real row: a position above them all is the top of the list, one below them all gives an
    empty last page.
    """
    if day > _LAST_DAY:
        return TOP_OF_LIST
    if day < _FIRST_DAY:
        return BOTTOM_OF_LIST
    on = date.fromordinal(day)
    if micros > _LATEST_US:
        return SortKey(on, _LATEST, _HIGHEST_ID)
    if micros < _EARLIEST_US:
        return SortKey(on, _EARLIEST, _LOWEST_ID)
    return SortKey(on, datetime_from_microseconds(micros), str(row_id))
