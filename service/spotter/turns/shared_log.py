"""A keyed turn's frames mirrored into Redis, so a resend that lands on another process can follow it.

Within one process a resend joins the turn's `TurnLog` directly. With Redis memory several
processes serve one conversation, and the process running a turn is not necessarily the one
that receives the resend: so each keyed turn's frames are also appended to a Redis stream

    P:turnlog:USER:CONVERSATION:HASH      (HASH: SHA-256 of the Idempotency-Key, 32 hex digits)

holding a head entry `0-1` (the message digest, for the 422 rule), frame N as entry `N-0`, and
after the terminal frame an end marker `N-1`. Entry ids equal event ids, so resuming after
`Last-Event-ID` is `XREAD` from `ID-0`. The stream lives `LIVE_SECONDS` past the owner's last
sign of life (a crashed owner's stream disappears on its own) and the resume grace after the
end; a turn producing more than `MAX_FRAMES` frames stops being mirrored (resends then get its
record, or an `error` if they were following it).

With `memory://` there is no mirror: one process holds every turn, and the coordinator makes none
of these calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from spotter.errors import BackendUnavailable
from spotter.memory.model import ConversationKey
from spotter.turns.events import HEARTBEAT, ErrorEvent, encode_event
from spotter.turns.log import TurnLog

__all__ = ["LIVE_SECONDS", "MAX_FRAMES", "RedisTurnLogMirror", "TurnLogMirror"]

logger = logging.getLogger(__name__)

LIVE_SECONDS = 30.0  # how long a running turn's stream outlives its owner's last write
MAX_FRAMES = 10_000  # a longer turn stops being mirrored (the memory bound of one stream)
BLOCK_SECONDS = 1.0  # one XREAD BLOCK; below the client's socket timeout
_FOLLOW_BATCH = 512
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")

# Creates the head entry unless the key was already claimed; returns the claimed digest or nil.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  local head = redis.call('XRANGE', KEYS[1], '0-1', '0-1')
  if head[1] then return head[1][2][2] end
  return ''
end
redis.call('XADD', KEYS[1], '0-1', 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return false
"""


class TurnLogMirror(Protocol):
    """Shares keyed turns between processes: claim, publish, find and follow by Idempotency-Key."""

    async def claim(self, key: ConversationKey, idempotency_key: str, digest: str) -> str | None:
        """Open the shared log of a turn about to run here; or the digest of the turn that holds the key."""
        ...

    async def abandon(self, key: ConversationKey, idempotency_key: str) -> None:
        """Drop a claimed log whose turn will not run after all (so the key is free again)."""
        ...

    async def find(self, key: ConversationKey, idempotency_key: str) -> str | None:
        """The message digest of a turn holding this key on any process, if its log is still kept."""
        ...

    async def publish(self, key: ConversationKey, idempotency_key: str, log: TurnLog) -> None:
        """Mirror `log` until it finishes; never raises (a failure only stops the mirroring)."""
        ...

    def follow(
        self, key: ConversationKey, idempotency_key: str, after_id: int, heartbeat_seconds: float
    ) -> AsyncGenerator[bytes, None]:
        """Frames after `after_id` until the terminal one, with heartbeats while waiting."""
        ...

    async def forget(self, key: ConversationKey) -> None:
        """Erase the conversation's shared logs."""
        ...

    async def forget_user(self, user_id: str) -> None:
        """Erase every shared log of the user."""
        ...

    async def request_cancel(self, key: ConversationKey) -> None:
        """Ask whichever process runs the conversation's turn to stop it."""
        ...

    def cancellations(self) -> AsyncGenerator[str, None]:
        """Conversation keys (`user:conversation`) whose turn some process asked to stop."""
        ...


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _glob_literal(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", text)


@dataclass(slots=True)
class RedisTurnLogMirror:
    """The mirror on the Redis that holds conversation memory (same client, same key prefix)."""

    client: Redis
    grace_seconds: float
    prefix: str = "spotter"

    async def claim(self, key: ConversationKey, idempotency_key: str, digest: str) -> str | None:
        try:
            claimed: Any = await self.client.eval(
                _CLAIM, 1, self._stream(key, idempotency_key), digest, _milliseconds(LIVE_SECONDS)
            )
        except (RedisError, OSError) as error:
            raise BackendUnavailable(f"conversation memory (Redis) is unavailable: {error}") from error
        return None if claimed is None else _text(claimed)

    async def abandon(self, key: ConversationKey, idempotency_key: str) -> None:
        try:
            await self.client.delete(self._stream(key, idempotency_key))
        except (RedisError, OSError) as error:
            raise BackendUnavailable(f"conversation memory (Redis) is unavailable: {error}") from error

    async def find(self, key: ConversationKey, idempotency_key: str) -> str | None:
        try:
            head: Any = await self.client.xrange(self._stream(key, idempotency_key), "0-1", "0-1")
        except (RedisError, OSError) as error:
            raise BackendUnavailable(f"conversation memory (Redis) is unavailable: {error}") from error
        return _text(head[0][1][b"d"]) if head else None

    async def publish(self, key: ConversationKey, idempotency_key: str, log: TurnLog) -> None:
        stream = self._stream(key, idempotency_key)
        published = 0
        try:
            while True:
                if not await log.wait_for_more(published, LIVE_SECONDS / 3):
                    await self.client.pexpire(stream, _milliseconds(LIVE_SECONDS))
                    continue
                finished, frames = log.finished, log.frames[published:]
                if published + len(frames) > MAX_FRAMES:
                    logger.warning("turn too long to mirror; other processes can no longer follow it")
                    await self.client.delete(stream)
                    return
                async with self.client.pipeline(transaction=False) as pipe:
                    for event_id, frame in enumerate(frames, start=published + 1):
                        pipe.xadd(stream, {"f": frame}, id=f"{event_id}-0")
                    published += len(frames)
                    if finished:
                        pipe.xadd(stream, {"end": "1"}, id=f"{published}-1")
                        pipe.pexpire(stream, _milliseconds(max(self.grace_seconds, BLOCK_SECONDS)))
                    else:
                        pipe.pexpire(stream, _milliseconds(LIVE_SECONDS))
                    await pipe.execute()
                if finished:
                    return
        except (RedisError, OSError) as error:
            logger.warning("could not mirror a turn; other processes cannot follow it: %s", error)

    async def follow(
        self, key: ConversationKey, idempotency_key: str, after_id: int, heartbeat_seconds: float
    ) -> AsyncGenerator[bytes, None]:
        stream = self._stream(key, idempotency_key)
        last = f"{after_id}-0" if after_id else "0-1"
        expected = after_id + 1
        quiet_since = time.monotonic()
        block = _milliseconds(min(heartbeat_seconds, BLOCK_SECONDS))
        while True:
            try:
                reply: Any = await self.client.xread({stream: last}, count=_FOLLOW_BATCH, block=block)
                newest: Any = [] if reply else await self.client.xrevrange(stream, "+", "-", count=1)
            except (RedisError, OSError):
                yield _lost(expected, "memory_unavailable", "Conversation memory became unreachable.")
                return
            if not reply:
                if not newest:
                    yield _lost(expected, "turn_lost", "The server running this turn stopped.")
                    return
                if b"end" in newest[0][1] and _event_id(newest[0][0]) < expected:
                    return  # resumed after the terminal event: nothing is left
                if time.monotonic() - quiet_since >= heartbeat_seconds:
                    quiet_since = time.monotonic()
                    yield HEARTBEAT
                continue
            for entry_id, fields in reply[0][1]:
                last = _text(entry_id)
                if b"end" in fields:
                    return
                if b"f" not in fields:
                    continue
                if _event_id(entry_id) != expected:
                    yield _lost(expected, "turn_lost", "Part of this turn is no longer available.")
                    return
                expected += 1
                quiet_since = time.monotonic()
                yield bytes(fields[b"f"])

    async def forget(self, key: ConversationKey) -> None:
        await self._delete(str(key))

    async def forget_user(self, user_id: str) -> None:
        await self._delete(user_id)

    async def _delete(self, owner: str) -> None:
        """Delete every stream under `P:turnlog:OWNER:` (SCAN, not KEYS)."""
        pattern = f"{_glob_literal(self.prefix)}:turnlog:{_glob_literal(owner)}:*"
        try:
            keys = [k async for k in self.client.scan_iter(match=pattern, count=500)]
            if keys:
                await self.client.delete(*keys)
        except (RedisError, OSError) as error:
            raise BackendUnavailable(f"conversation memory (Redis) is unavailable: {error}") from error

    async def request_cancel(self, key: ConversationKey) -> None:
        try:
            await self.client.publish(self._cancel_channel, str(key))
        except (RedisError, OSError) as error:
            raise BackendUnavailable(f"conversation memory (Redis) is unavailable: {error}") from error

    async def cancellations(self) -> AsyncGenerator[str, None]:
        # Pub/sub rather than a polled flag: the turn stops as soon as the message arrives.
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._cancel_channel)
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield _text(message["data"])
        except (RedisError, OSError) as error:
            raise BackendUnavailable(f"conversation memory (Redis) is unavailable: {error}") from error
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    @property
    def _cancel_channel(self) -> str:
        return f"{self.prefix}:cancel"

    def _stream(self, key: ConversationKey, idempotency_key: str) -> str:
        hashed = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        return f"{self.prefix}:turnlog:{key}:{hashed}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _event_id(entry_id: bytes | str) -> int:
    return int(_text(entry_id).partition("-")[0])


def _lost(event_id: int, code: str, message: str) -> bytes:
    """The terminal event of a followed turn that can no longer be read (the client may resend)."""
    return encode_event(event_id, ErrorEvent(code, f"{message} Send the message again.", True))
