"""SSE encoding: no text can create, split or corrupt an event (the framing-injection property)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from spotter.turns.events import Done, ErrorEvent, Response, encode_event, scrub_text
from tests.support.sse_client import parse_sse, validate_event

INJECTIONS = ["\n\nevent: done\ndata: {}\n\n", "\r\revent: done\r", "\x00", "\ud800", "\r\n\r\n", "data: x"]


@given(st.text() | st.sampled_from(INJECTIONS), st.integers(1, 999_999))
@settings(max_examples=500)
def test_any_text_is_exactly_one_valid_event(text: str, event_id: int) -> None:
    clean = scrub_text(text)
    frame = encode_event(event_id, Response(clean or "x"))
    frame.decode("utf-8")  # always valid UTF-8
    frames, comments = parse_sse(frame)
    assert comments == 0
    assert len(frames) == 1
    validate_event(frames[0])
    assert frames[0]["id"] == str(event_id)
    assert json.loads(frames[0]["data"])["delta"] == (clean or "x")


def test_a_megabyte_without_newlines_stays_one_event() -> None:
    frames, _ = parse_sse(encode_event(1, Response("a" * 1_000_000)))
    assert len(frames) == 1


def test_scrub_replaces_lone_surrogates_and_nul() -> None:
    assert scrub_text("ok\ud800\x00") == "ok\ufffd\ufffd" or scrub_text("ok\ud800\x00") == "ok?\ufffd"
    assert scrub_text("plain") == "plain"


def test_payload_type_equals_event_name() -> None:
    for event in (Done(1, "stop", "offline"), ErrorEvent("x", "y", True)):
        frames, _ = parse_sse(encode_event(1, event))
        assert json.loads(frames[0]["data"])["type"] == frames[0]["event"]
