"""The service checks "not blank" exactly as the spec's pattern says, per ECMA-262 (schemathesis found
a title of U+0085 valid per the spec and rejected by Python's `\\S`)."""

from __future__ import annotations

import msgspec
import pytest

from spotter.http.chat_routes import ChatRequest
from spotter.spec import load_spec
from spotter.text_patterns import NOT_BLANK
from spotter.workouts.model import WorkoutInput

SCHEMAS = load_spec()["components"]["schemas"]


def test_the_spec_uses_the_same_pattern_everywhere() -> None:
    patterns = [
        SCHEMAS["ChatRequest"]["properties"]["message"]["pattern"],
        SCHEMAS["WorkoutInput"]["properties"]["title"]["pattern"],
        SCHEMAS["WorkoutSet"]["properties"]["exercise"]["pattern"],
        SCHEMAS["ApiTokenRequest"]["properties"]["name"]["pattern"],
    ]
    assert patterns == [NOT_BLANK] * 4


@pytest.mark.parametrize(
    ("text", "valid"),
    [("\u0085", True), ("a", True), (" \t\r\n", False), ("\u3000\u00a0", False), ("\ufeff\u2028", False)],
)
def test_not_blank_means_what_ecma_262_means(text: str, valid: bool) -> None:
    for model, body in ((ChatRequest, {"message": text}), (WorkoutInput, {"date": "2026-11-18", "title": text})):
        try:
            msgspec.json.decode(msgspec.json.encode(body), type=model)
        except msgspec.ValidationError:
            accepted = False
        else:
            accepted = True
        assert accepted is valid, (model.__name__, repr(text))
