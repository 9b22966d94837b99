"""Cursors round-trip the sort key, stay URL-safe, and order pages the way the repositories do."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from spotter.workouts.model import Workout
from spotter.workouts.paging import (
    TOP_OF_LIST,
    InvalidCursor,
    SortKey,
    decode_cursor,
    encode_cursor,
    page_of,
    page_request,
)


def workout(day: int, second: int = 0) -> Workout:
    return Workout(
        id=str(uuid.uuid4()),
        date=date(2026, 11, day),
        title="Session",
        notes="",
        sets=(),
        created_at=datetime(2026, 11, day, 10, 0, second, 123456, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "key",
    [
        SortKey(date(2026, 11, 18), datetime(2026, 11, 18, 10, 0, 0, 1, tzinfo=UTC), str(uuid.uuid4())),
        SortKey(date(1999, 1, 1), datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), str(uuid.uuid4())),
        TOP_OF_LIST,
    ],
)
def test_a_cursor_round_trips_its_key_and_is_url_safe(key: SortKey) -> None:
    cursor = encode_cursor(key)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert decode_cursor(cursor) == key


def test_a_tampered_cursor_is_rejected() -> None:
    cursor = encode_cursor(SortKey.of(workout(18)))
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor[:-5])
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor + "$")


def test_page_of_reports_more_only_when_the_extra_row_was_fetched() -> None:
    rows = [workout(18, second) for second in range(4)]
    full = page_of(rows, 3)
    assert full.items == tuple(rows[:3])
    assert full.next_cursor is not None
    assert decode_cursor(full.next_cursor) == SortKey.of(rows[2])
    assert page_of(rows[:3], 3).next_cursor is None
    assert page_of([], 3).items == ()


def test_a_page_request_defaults_to_the_top_and_every_date() -> None:
    request = page_request(20, None, None, None)
    assert request.after == TOP_OF_LIST
    assert (request.date_from, request.date_to) == (date.min, date.max)
    assert TOP_OF_LIST.created_at > datetime.now(UTC) + timedelta(days=365 * 7000)
