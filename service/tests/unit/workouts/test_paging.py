"""Cursors round-trip the sort key, every string of the spec's cursor shape is a position, and
pages are cut the way the repositories need."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotter.spec import load_spec
from spotter.workouts.model import Workout
from spotter.workouts.paging import (
    BOTTOM_OF_LIST,
    CURSOR_PATTERN,
    TOP_OF_LIST,
    InvalidCursor,
    SortKey,
    decode_cursor,
    encode_cursor,
    page_of,
    page_request,
)

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
pattern_valid_cursors = st.text(alphabet=BASE64URL, min_size=36, max_size=36)


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
        SortKey(date(1, 1, 1), datetime(1, 1, 1, tzinfo=UTC), str(uuid.uuid4())),
        TOP_OF_LIST,
        BOTTOM_OF_LIST,
    ],
)
def test_a_cursor_round_trips_its_key_and_has_the_specified_shape(key: SortKey) -> None:
    cursor = encode_cursor(key)
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert decode_cursor(cursor) == key


def test_the_spec_states_the_cursor_shape_the_service_accepts() -> None:
    schema = load_spec()["components"]["parameters"]["Cursor"]["schema"]
    assert schema["pattern"] == CURSOR_PATTERN
    assert schema["minLength"] == schema["maxLength"] == 36


@given(pattern_valid_cursors)
def test_every_string_of_the_cursor_shape_is_a_position(cursor: str) -> None:
    key = decode_cursor(cursor)
    assert _comparable(BOTTOM_OF_LIST) <= _comparable(key) <= _comparable(TOP_OF_LIST)
    assert key.created_at.utcoffset() == timedelta(0)
    assert str(uuid.UUID(key.id)) == key.id


@given(st.lists(pattern_valid_cursors, min_size=2, max_size=2))
def test_decoding_keeps_the_order_of_the_packed_fields(cursors: list[str]) -> None:
    fields = sorted(cursors, key=_packed_fields)
    keys = [_comparable(decode_cursor(cursor)) for cursor in fields]
    assert keys == sorted(keys)  # clamping may merge positions, never swap them


def _packed_fields(cursor: str) -> tuple[int, int, int]:
    raw = base64.urlsafe_b64decode(cursor)
    return int.from_bytes(raw[:3], "big"), int.from_bytes(raw[3:11], "big", signed=True), int.from_bytes(raw[11:])


def _comparable(key: SortKey) -> tuple[date, datetime, str]:
    return key.date, key.created_at, key.id


def _cursor(day: int, micros: int, row_id: uuid.UUID) -> str:
    raw = day.to_bytes(3, "big") + micros.to_bytes(8, "big", signed=True) + row_id.bytes
    return base64.urlsafe_b64encode(raw).decode()


def test_out_of_range_fields_are_clamped_to_the_nearest_position_on_their_side() -> None:
    row_id = uuid.uuid4()
    day = date(2026, 11, 18)
    assert decode_cursor("_" * 36) == TOP_OF_LIST  # day number 16777215 is after 9999-12-31
    assert decode_cursor("A" * 36) == BOTTOM_OF_LIST  # day number 0 is before 0001-01-01
    assert decode_cursor(_cursor(day.toordinal(), 2**63 - 1, row_id)) == SortKey(
        day, datetime.max.replace(tzinfo=UTC), str(uuid.UUID(int=2**128 - 1))
    )
    assert decode_cursor(_cursor(day.toordinal(), -(2**63), row_id)) == SortKey(
        day, datetime.min.replace(tzinfo=UTC), str(uuid.UUID(int=0))
    )
    assert decode_cursor(_cursor(day.toordinal(), 0, row_id)) == SortKey(
        day, datetime(1970, 1, 1, tzinfo=UTC), str(row_id)
    )


@pytest.mark.parametrize(
    "cursor",
    ["", "A" * 35, "A" * 37, "A" * 35 + "=", "A" * 35 + "+", "A" * 35 + "/", "A" * 35 + "$", "A" * 36 + "\n",
     "A" * 35 + "\u0661", "A" * 35 + "\u00e9", "A" * 500],
)
def test_a_string_of_another_shape_is_rejected(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_a_tampered_cursor_is_rejected_or_still_a_position() -> None:
    cursor = encode_cursor(SortKey.of(workout(18)))
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor[:-5])
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor + "$")
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert decode_cursor(flipped).date == date(2026, 11, 18)


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
