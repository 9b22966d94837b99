"""TurnLog wakes every waiting reader on a new frame, times out without one, and keeps no waiter."""

from __future__ import annotations

import asyncio

import pytest

from spotter.turns.log import TurnLog


async def test_an_appended_frame_wakes_every_waiting_reader() -> None:
    log = TurnLog()
    readers = [asyncio.create_task(log.wait_for_more(0, 5.0)) for _ in range(50)]
    await asyncio.sleep(0)
    log.append(b"event: done\n\n")
    assert await asyncio.gather(*readers) == [True] * 50
    assert not log._waiters


async def test_a_wait_without_frames_times_out_false_and_leaves_nothing_behind() -> None:
    log = TurnLog()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await log.wait_for_more(0, 0.05) is False
    assert loop.time() - started >= 0.04
    assert not log._waiters


async def test_frames_already_there_or_a_finished_log_return_at_once() -> None:
    assert await TurnLog([b"a"]).wait_for_more(0, 60.0) is True
    assert await TurnLog(finished=True).wait_for_more(0, 60.0) is True
    log = TurnLog([b"a"])
    assert await log.wait_for_more(1, 0.01) is False  # only frames after `seen` count


async def test_finishing_wakes_readers() -> None:
    log = TurnLog()
    reader = asyncio.create_task(log.wait_for_more(0, 5.0))
    await asyncio.sleep(0)
    log.finish()
    assert await reader is True


async def test_a_cancelled_reader_leaves_no_waiter_and_others_still_wake() -> None:
    log = TurnLog()
    gone = asyncio.create_task(log.wait_for_more(0, 5.0))
    kept = asyncio.create_task(log.wait_for_more(0, 5.0))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert len(log._waiters) == 1
    log.append(b"x")
    assert await kept is True
    assert not log._waiters
