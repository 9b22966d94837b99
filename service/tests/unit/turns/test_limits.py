"""Per-user turn limits: a sliding minute and a stream cap, each with a Retry-After."""

from __future__ import annotations

import pytest

from spotter.errors import RateLimited
from spotter.turns.limits import TurnLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_slides_and_says_when_to_retry() -> None:
    clock = Clock()
    limits = TurnLimits(per_minute=2, max_streams=10, clock=clock)
    limits.admit("credentials:1")
    clock.now += 10
    limits.admit("credentials:1")
    with pytest.raises(RateLimited) as raised:
        limits.admit("credentials:1")
    assert raised.value.retry_after == 50
    limits.admit("credentials:2")  # other users are unaffected
    clock.now += 51
    limits.admit("credentials:1")


def test_stream_cap_is_released_when_a_stream_ends() -> None:
    limits = TurnLimits(per_minute=100, max_streams=1, clock=Clock())
    limits.admit("credentials:1")
    with pytest.raises(RateLimited):
        limits.admit("credentials:1")
    limits.release("credentials:1")
    limits.admit("credentials:1")
