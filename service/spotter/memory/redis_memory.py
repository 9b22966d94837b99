"""Conversation memory in Redis, so every worker and every service process shares one memory.

Each step that changes a conversation is one Lua script, so it is atomic across processes.
Keys live under a prefix (default `spotter`), `NAME` being `user_id:conversation_id`:

- `P:conv:NAME` (committed-turn count) and `P:win:NAME` (the window, one msgpack message per
  element) and `P:rec:NAME` (the newest turn records), all with the sliding TTL;
- `P:tomb:NAME`, the loss reason, with the tombstone TTL; `P:lock:NAME`, the owner token;
- `P:lru`, every held conversation scored by its last append (server time in microseconds,
  strictly increasing). With one TTL for all, LRU order is expiry order: a member whose score is
  older than the TTL was alive and has expired, which is how `load` and `sweep` tell
  `memory_expired` from "never held" without keyspace notifications.
- `P:tombs` (tombstones by burial time) and `P:recs` (one member per held record), so the cap
  bounds tombstones as well and `stats` is three ZCARDs.

Scripts reach keys they compute, so this needs a standalone Redis (or one primary), not Cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from spotter.errors import BackendUnavailable
from spotter.llm.base import ChatMessage
from spotter.memory.model import (
    ConversationKey,
    ConversationState,
    LoadResult,
    LossReason,
    MemoryStats,
    TurnRecord,
)
from spotter.settings import Settings

__all__ = ["RedisMemory"]

CONNECT_TIMEOUT_SECONDS = 1.0
OPERATION_TIMEOUT_SECONDS = 2.0
SWEEP_BATCH = 500  # conversations buried per script run, so one sweep never blocks Redis for long

_message_encoder = msgspec.msgpack.Encoder()
_message_decoder = msgspec.msgpack.Decoder(ChatMessage)
_record_decoder = msgspec.msgpack.Decoder(TurnRecord)
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")

# ARGV[1..6] are the same for every script: the configuration, so processes never disagree.
_PRELUDE = """
local P, TTL, TOMB, CAP, WINDOW, NREC = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local LRU, TOMBS, RECS = P .. ':lru', P .. ':tombs', P .. ':recs'
local function key(kind, name) return P .. ':' .. kind .. ':' .. name end
local function num(x) return string.format('%.0f', x) end
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function expired(score, now) return tonumber(score) + TTL * 1000 <= now end
local function index_records(name, held, now)
  for i = 0, NREC - 1 do
    if i < held then redis.call('ZADD', RECS, num(now), name .. '#' .. i)
    else redis.call('ZREM', RECS, name .. '#' .. i) end
  end
end
local function drop(name)
  redis.call('DEL', key('conv', name), key('win', name), key('rec', name))
  index_records(name, 0, 0)
  return redis.call('ZREM', LRU, name)
end
local function bury(name, reason, now)
  drop(name)
  redis.call('SET', key('tomb', name), reason, 'PX', ARGV[3])
  redis.call('ZADD', TOMBS, num(now), name)
  local excess = redis.call('ZCARD', TOMBS) - CAP
  if excess > 0 then
    local popped = redis.call('ZPOPMIN', TOMBS, excess)
    for i = 1, #popped, 2 do redis.call('DEL', key('tomb', popped[i])) end
  end
end
"""

_LOAD = """
local name, now = ARGV[7], now_us()
local score = redis.call('ZSCORE', LRU, name)
if score then
  local turns = redis.call('GET', key('conv', name))
  if turns and not expired(score, now) then
    return {turns, redis.call('LRANGE', key('win', name), 0, -1), false}
  end
  bury(name, 'memory_expired', now)
end
return {false, {}, redis.call('GET', key('tomb', name))}
"""

_APPEND = """
local name, now = ARGV[7], now_us()
local newest = redis.call('ZRANGE', LRU, -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= now then now = tonumber(newest[2]) + 1 end
local score = redis.call('ZSCORE', LRU, name)
if score and expired(score, now) then drop(name) end
-- Every commit raises the turn count, so seeing this count already means a retried call whose
-- first attempt succeeded: appending again would duplicate the turn in the window.
if redis.call('GET', key('conv', name)) == ARGV[8] then return 1 end
local win, rec = key('win', name), key('rec', name)
redis.call('RPUSH', win, ARGV[9], ARGV[10])
redis.call('LTRIM', win, -WINDOW, -1)
redis.call('SET', key('conv', name), ARGV[8], 'PX', ARGV[2])
redis.call('PEXPIRE', win, ARGV[2])
redis.call('PEXPIRE', rec, ARGV[2])
redis.call('DEL', key('tomb', name))
redis.call('ZREM', TOMBS, name)
redis.call('ZADD', LRU, num(now), name)
local excess = redis.call('ZCARD', LRU) - CAP
if excess > 0 then
  local popped = redis.call('ZPOPMIN', LRU, excess)
  for i = 1, #popped, 2 do
    bury(popped[i], expired(popped[i + 1], now) and 'memory_expired' or 'memory_evicted', now)
  end
end
return 1
"""

# A record element is `LEN:IDEMPOTENCY_KEY:` + msgpack, so a prefix match names exactly one key.
_SAVE_RECORD = """
local name, prefix, now = ARGV[7], ARGV[8], now_us()
local score = redis.call('ZSCORE', LRU, name)
local ttl = redis.call('PTTL', key('conv', name))
if not score or expired(score, now) or ttl <= 0 then return 0 end
local rec = key('rec', name)
for _, item in ipairs(redis.call('LRANGE', rec, 0, -1)) do
  if string.sub(item, 1, #prefix) == prefix then redis.call('LREM', rec, 0, item) end
end
redis.call('RPUSH', rec, ARGV[9])
redis.call('LTRIM', rec, -NREC, -1)
redis.call('PEXPIRE', rec, ttl)
local held = redis.call('LLEN', rec)
index_records(name, held, now)
return held
"""

_FORGET = """
local name = ARGV[7]
local held = drop(name)
redis.call('DEL', key('tomb', name))
redis.call('ZREM', TOMBS, name)
return held
"""

_SWEEP = """
local now, batch, purged = now_us(), tonumber(ARGV[7]), 0
local dead = redis.call('ZRANGE', TOMBS, '-inf', num(now - TOMB * 1000), 'BYSCORE', 'LIMIT', 0, batch)
for _, name in ipairs(dead) do
  redis.call('ZREM', TOMBS, name)
  redis.call('DEL', key('tomb', name))
end
local stale = redis.call('ZRANGE', LRU, '-inf', num(now - TTL * 1000), 'BYSCORE', 'LIMIT', 0, batch)
for _, name in ipairs(stale) do bury(name, 'memory_expired', now) end
local more = (#stale == batch or #dead == batch) and 1 or 0
return {#stale + #dead, more}
"""

_ACQUIRE_LOCK = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

_RENEW_LOCK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


@contextmanager
def _reachable() -> Iterator[None]:
    """Turn every Redis failure into the domain's BackendUnavailable (never leak redis errors)."""
    try:
        yield
    except (RedisError, OSError) as error:
        raise BackendUnavailable(f"conversation memory (Redis) is unavailable: {error}") from error


def _glob_literal(text: str) -> str:
    """`text` as a SCAN pattern matching only itself (user ids have no glob characters; be safe)."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _record_prefix(idempotency_key: str) -> bytes:
    encoded = idempotency_key.encode()
    return b"%d:%s:" % (len(encoded), encoded)


@dataclass(slots=True)
class RedisMemory:
    """The shared backend: the same contract as InProcessMemory, for several workers/processes."""

    client: Redis
    window: int
    ttl_seconds: float
    max_conversations: int
    tombstone_seconds: float
    records_per_conversation: int = 2
    prefix: str = "spotter"
    _scripts: dict[str, AsyncScript] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Registered once; redis-py sends EVALSHA and reloads a script a restarted Redis forgot.
        memory_steps = {
            "load": _LOAD,
            "append": _APPEND,
            "save_record": _SAVE_RECORD,
            "forget": _FORGET,
            "sweep": _SWEEP,
        }
        locks = {"acquire_lock": _ACQUIRE_LOCK, "renew_lock": _RENEW_LOCK, "release_lock": _RELEASE_LOCK}
        self._scripts = {name: self.client.register_script(_PRELUDE + body) for name, body in memory_steps.items()}
        self._scripts.update({name: self.client.register_script(body) for name, body in locks.items()})

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisMemory:
        """A backend on SPOTTER_MEMORY_URL with the memory settings (connects lazily)."""
        return cls.from_url(
            settings.memory_url,
            window=settings.memory_window,
            ttl_seconds=settings.memory_ttl_seconds,
            max_conversations=settings.memory_max_conversations,
            tombstone_seconds=settings.memory_tombstone_seconds,
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        window: int,
        ttl_seconds: float,
        max_conversations: int,
        tombstone_seconds: float,
        prefix: str = "spotter",
    ) -> RedisMemory:
        """A backend on `redis://HOST:PORT/DB` with short timeouts, so a Redis outage answers fast.

        One immediate retry on a broken connection lets pooled connections that died with a
        Redis restart reconnect instead of failing a request; timeouts are not retried.
        """
        client = Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=OPERATION_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        return cls(client, window, ttl_seconds, max_conversations, tombstone_seconds, prefix=prefix)

    async def load(self, key: ConversationKey) -> LoadResult:
        with _reachable():
            turns, messages, reason = await self._run("load", str(key))
        if turns is None:
            return LoadResult(None, LossReason(reason.decode()) if reason else None)
        window = tuple(_message_decoder.decode(message) for message in messages)
        return LoadResult(ConversationState(window, int(turns)))

    async def append_turn(self, key: ConversationKey, user: ChatMessage, assistant: ChatMessage, turns: int) -> None:
        encoded = (_message_encoder.encode(user), _message_encoder.encode(assistant))
        with _reachable():
            await self._run("append", str(key), turns, *encoded)

    async def forget(self, key: ConversationKey) -> None:
        with _reachable():
            await self._run("forget", str(key))

    async def forget_user(self, user_id: str) -> int:
        with _reachable():
            names = await self._conversations_of(user_id)
            if not names:
                return 0
            async with self.client.pipeline(transaction=False) as pipe:
                for name in names:
                    await self._run("forget", name, client=pipe)
                held = await pipe.execute()
        return sum(int(h) for h in held)

    async def save_record(self, key: ConversationKey, record: TurnRecord) -> None:
        element = _record_prefix(record.idempotency_key) + _message_encoder.encode(record)
        with _reachable():
            await self._run("save_record", str(key), _record_prefix(record.idempotency_key), element)

    async def find_record(self, key: ConversationKey, idempotency_key: str) -> TurnRecord | None:
        prefix = _record_prefix(idempotency_key)
        with _reachable():
            elements: list[bytes] = await self.client.lrange(self._key("rec", str(key)), 0, -1)  # type: ignore[assignment]
        for element in elements:
            if element.startswith(prefix):
                return _record_decoder.decode(element[len(prefix) :])
        return None

    async def acquire_lock(self, key: ConversationKey, owner: str, ttl_seconds: float) -> bool:
        with _reachable():
            taken = await self._scripts["acquire_lock"](
                [self._key("lock", str(key))], [owner, _milliseconds(ttl_seconds)]
            )
        return bool(taken)

    async def renew_lock(self, key: ConversationKey, owner: str, ttl_seconds: float) -> bool:
        with _reachable():
            renewed = await self._scripts["renew_lock"](
                [self._key("lock", str(key))], [owner, _milliseconds(ttl_seconds)]
            )
        return bool(renewed)

    async def release_lock(self, key: ConversationKey, owner: str) -> None:
        with _reachable():
            await self._scripts["release_lock"]([self._key("lock", str(key))], [owner])

    async def sweep(self) -> int:
        purged = 0
        with _reachable():
            while True:
                count, more = await self._run("sweep", SWEEP_BATCH)
                purged += int(count)
                if not more:
                    return purged

    async def stats(self) -> MemoryStats:
        with _reachable():
            async with self.client.pipeline(transaction=False) as pipe:
                for index in ("lru", "tombs", "recs"):
                    pipe.zcard(f"{self.prefix}:{index}")
                conversations, tombstones, records = await pipe.execute()
        return MemoryStats(int(conversations), int(tombstones), int(records))

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.client.aclose()

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:{kind}:{name}"

    async def _run(self, script: str, *args: bytes | str | int, client: Any = None) -> Any:
        config = (
            self.prefix,
            _milliseconds(self.ttl_seconds),
            _milliseconds(self.tombstone_seconds),
            self.max_conversations,
            self.window,
            self.records_per_conversation,
        )
        return await self._scripts[script]([], [*config, *args], client=client)

    async def _conversations_of(self, user_id: str) -> set[str]:
        """Every conversation name of the user that has a key or an index entry (SCAN, not KEYS)."""
        user, prefix = _glob_literal(user_id), _glob_literal(self.prefix)
        own = f"{user_id}:"
        names: set[str] = set()
        async for raw in self.client.scan_iter(match=f"{prefix}:*:{user}:*", count=500):
            kind, _, name = raw.decode().removeprefix(f"{self.prefix}:").partition(":")
            if kind in {"conv", "win", "rec", "tomb"}:
                names.add(name)
        for index in ("lru", "tombs"):
            async for member, _score in self.client.zscan_iter(f"{self.prefix}:{index}", match=f"{user}:*", count=500):
                names.add(member.decode())
        return {name for name in names if name.startswith(own) and ":" not in name[len(own) :]}
