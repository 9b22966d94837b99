"""The Redis turn-log mirror against a real redis-server: claim, publish, follow, forget."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from spotter.memory.model import ConversationKey
from spotter.turns.events import HEARTBEAT, Done, ErrorEvent, Response, encode_event
from spotter.turns.log import TurnLog
from spotter.turns.shared_log import RedisTurnLogMirror
from tests.support.redis_fixtures import redis_server
from tests.support.redis_server import RedisServer

__all__ = ["redis_server"]


@pytest.fixture
async def mirror(redis_server: RedisServer) -> AsyncIterator[RedisTurnLogMirror]:
    client = Redis.from_url(redis_server.url(3))
    prefix = f"test-{uuid.uuid4().hex}"
    yield RedisTurnLogMirror(client, grace_seconds=5, prefix=prefix)
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _key(user: str = "credentials:1") -> ConversationKey:
    return ConversationKey(user, uuid.uuid4())


def _frames(count: int) -> list[bytes]:
    return [encode_event(n, Response(f"ü{n} ")) for n in range(1, count)] + [encode_event(count, Done(1, "stop", "m"))]


async def _collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [frame async for frame in stream]


async def test_a_key_is_claimed_once_and_found_with_its_digest(mirror: RedisTurnLogMirror) -> None:
    key = _key()
    assert await mirror.find(key, "k") is None
    assert await mirror.claim(key, "k", "digest-1") is None
    assert await mirror.claim(key, "k", "digest-2") == "digest-1"
    assert await mirror.find(key, "k") == "digest-1"
    assert await mirror.find(_key("github:1"), "k") is None  # keys are namespaced by user and conversation
    await mirror.abandon(key, "k")
    assert await mirror.find(key, "k") is None


async def test_followers_get_every_frame_live_or_after_an_id_with_heartbeats(mirror: RedisTurnLogMirror) -> None:
    key, log, frames = _key(), TurnLog(), _frames(6)
    await mirror.claim(key, "k", "d")
    publishing = asyncio.create_task(mirror.publish(key, "k", log))
    from_start = asyncio.create_task(_collect(mirror.follow(key, "k", 0, heartbeat_seconds=0.1)))
    after_two = asyncio.create_task(_collect(mirror.follow(key, "k", 2, heartbeat_seconds=0.1)))
    for frame in frames[:-1]:
        log.append(frame)
        await asyncio.sleep(0.15)
    log.append(frames[-1])
    log.finish()
    await publishing
    started = await from_start
    assert [f for f in started if f != HEARTBEAT] == frames
    assert HEARTBEAT in started
    assert [f for f in await after_two if f != HEARTBEAT] == frames[2:]
    late = await _collect(mirror.follow(key, "k", 4, heartbeat_seconds=0.1))  # after the end: the rest
    assert late == frames[4:]
    assert await _collect(mirror.follow(key, "k", 6, heartbeat_seconds=0.1)) == []


async def test_a_vanished_turn_ends_the_follower_with_a_retryable_error(mirror: RedisTurnLogMirror) -> None:
    key, log = _key(), TurnLog()
    await mirror.claim(key, "k", "d")
    publishing = asyncio.create_task(mirror.publish(key, "k", log))
    log.append(_frames(3)[0])
    following = asyncio.create_task(_collect(mirror.follow(key, "k", 0, heartbeat_seconds=0.1)))
    await asyncio.sleep(0.3)
    await mirror.forget(key)  # as when the owner crashed and the stream expired
    frames = await asyncio.wait_for(following, 5)
    assert frames[0] == _frames(3)[0]
    assert frames[-1] == encode_event(
        2, ErrorEvent("turn_lost", "The server running this turn stopped. Send the message again.", True)
    )
    log.finish()
    publishing.cancel()


async def test_forget_user_erases_only_that_users_logs(mirror: RedisTurnLogMirror) -> None:
    mine, theirs = _key("credentials:1"), _key("credentials:12")
    await mirror.claim(mine, "k", "d")
    await mirror.claim(theirs, "k", "d")
    await mirror.forget_user("credentials:1")
    assert await mirror.find(mine, "k") is None
    assert await mirror.find(theirs, "k") == "d"
