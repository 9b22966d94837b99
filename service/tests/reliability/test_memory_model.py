"""A Hypothesis stateful model of conversation memory, run against both backends directly.

Random interleavings of turns (load, the spec's turn-counter rule via `plan_turn`, commit), clock
jumps past the TTL and the tombstone lifetime, sweeps, evictions under a cap of 3, forgets and
resent (duplicate) commits are checked against a plain reference model: the window, the turn
count, the checkpoint reason and the number of conversations held are always what it says.

The in-process backend takes an injectable clock, so its machine jumps time. Redis stamps time
with its own `TIME` inside Lua scripts, so its machine runs with a TTL far beyond the test and
no time jumps (expiry on Redis is covered by the contract suite in tests/unit/memory).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from spotter.llm.base import ChatMessage
from spotter.memory.backend import ConversationMemory
from spotter.memory.in_process import InProcessMemory
from spotter.memory.model import ConversationKey, LoadResult, LossReason
from spotter.memory.redis_memory import RedisMemory
from spotter.turns.plan import plan_turn
from tests.reliability.conftest import scaled
from tests.reliability.figures import RunFigures
from tests.support.redis_server import RedisServer

T = TypeVar("T")
WINDOW = 4
CAP = 3
TTL = 100.0
TOMBSTONE = 250.0
USERS = ("credentials:1", "github:2")
CONVERSATIONS = [*(ConversationKey(USERS[0], uuid.UUID(int=n)) for n in (1, 2, 3, 4)),
                 ConversationKey(USERS[1], uuid.UUID(int=1))]


@dataclass
class _Held:
    messages: tuple[ChatMessage, ...]
    turns: int
    committed_at: float
    last_commit: tuple[ChatMessage, ChatMessage] | None = None


class ReferenceMemory:
    """What the contract says memory holds: plain dicts, insertion order = commit order."""

    def __init__(self, *, expires: bool) -> None:
        self.expires = expires
        self.held: OrderedDict[str, _Held] = OrderedDict()
        self.tombstones: OrderedDict[str, tuple[LossReason, float]] = OrderedDict()

    def _expired(self, held: _Held, now: float) -> bool:
        return self.expires and held.committed_at + TTL <= now

    def _bury(self, name: str, reason: LossReason, now: float) -> None:
        self.held.pop(name, None)
        self.tombstones.pop(name, None)
        self.tombstones[name] = (reason, now)
        while len(self.tombstones) > CAP:
            self.tombstones.popitem(last=False)

    def load(self, name: str, now: float) -> tuple[_Held | None, LossReason | None]:
        held = self.held.get(name)
        if held is not None and self._expired(held, now):
            self._bury(name, LossReason.EXPIRED, now)
            held = None
        if held is not None:
            return held, None
        tombstone = self.tombstones.get(name)
        if tombstone is not None and tombstone[1] + TOMBSTONE <= now:
            del self.tombstones[name]
            tombstone = None
        return None, tombstone[0] if tombstone else None

    def commit(self, name: str, user: ChatMessage, assistant: ChatMessage, turns: int, now: float) -> None:
        held = self.held.get(name)
        if held is not None and self._expired(held, now):
            self.held.pop(name)
            held = None
        if held is not None and held.turns == turns:
            return  # a resent commit of a turn already counted changes nothing, not even LRU order
        previous = held.messages if held else ()
        self.held.pop(name, None)
        self.tombstones.pop(name, None)
        self.held[name] = _Held((*previous, user, assistant)[-WINDOW:], turns, now, (user, assistant))
        while len(self.held) > CAP:
            oldest, victim = next(iter(self.held.items()))
            expired = self._expired(victim, now)
            reason = LossReason.EXPIRED if expired else LossReason.EVICTED
            self._bury(oldest, reason, now)

    def forget(self, name: str) -> None:
        self.held.pop(name, None)
        self.tombstones.pop(name, None)

    def sweep(self, now: float) -> None:
        for name, held in list(self.held.items()):
            if self._expired(held, now):
                self._bury(name, LossReason.EXPIRED, now)
        for name in [n for n, (_, at) in self.tombstones.items() if at + TOMBSTONE <= now]:
            del self.tombstones[name]


class MemoryMachine(RuleBasedStateMachine):
    """Drives one backend and the reference model side by side."""

    expires = True
    steps = 0

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.now = 1000.0
        self.model = ReferenceMemory(expires=self.expires)
        self.client_turns = dict.fromkeys((str(k) for k in CONVERSATIONS), 0)
        self.memory = self.make_memory()
        self.said = 0

    def make_memory(self) -> ConversationMemory:
        raise NotImplementedError

    def run(self, step: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(step)

    def _count(self) -> None:
        type(self).steps += 1

    def check_load(self, key: ConversationKey) -> LoadResult:
        loaded = self.run(self.memory.load(key))
        held, reason = self.model.load(str(key), self.now)
        if held is None:
            assert loaded.state is None, (key, loaded)
            assert loaded.tombstone == reason, (key, loaded.tombstone, reason)
        else:
            assert loaded.state is not None, (key, "expected", held)
            assert loaded.state.messages == held.messages
            assert loaded.state.turns == held.turns
        return loaded

    @rule(key=st.sampled_from(CONVERSATIONS), client=st.sampled_from(["honest", "behind", "ahead"]))
    def turn(self, key: ConversationKey, client: str) -> None:
        """A whole turn: load, the turn-counter rule, commit; the checkpoint is what the model says."""
        self._count()
        seen = self.client_turns[str(key)]
        sent = {"honest": seen, "behind": max(0, seen - 1), "ahead": seen + 1}[client]
        loaded = self.check_load(key)
        start = plan_turn(loaded, sent)
        held, reason = self.model.load(str(key), self.now)
        expected = None if held is not None else reason or (LossReason.LOST if sent > 0 else None)
        assert start.checkpoint == expected, (key, start, expected)
        base = max(held.turns, sent) if held is not None else sent
        assert start.base_turns == base
        self.said += 1
        user, assistant = ChatMessage("user", f"q{self.said}"), ChatMessage("assistant", f"a{self.said}")
        self.run(self.memory.append_turn(key, user, assistant, base + 1))
        self.model.commit(str(key), user, assistant, base + 1, self.now)
        self.client_turns[str(key)] = base + 1

    @rule(key=st.sampled_from(CONVERSATIONS))
    def resend_commit(self, key: ConversationKey) -> None:
        """The same commit again (a retried write): never a second copy of the turn."""
        self._count()
        held = self.model.held.get(str(key))
        if held is None or held.last_commit is None:
            return
        user, assistant = held.last_commit
        self.run(self.memory.append_turn(key, user, assistant, held.turns))
        self.model.commit(str(key), user, assistant, held.turns, self.now)

    @rule(key=st.sampled_from(CONVERSATIONS))
    def observe(self, key: ConversationKey) -> None:
        self._count()
        self.check_load(key)

    @rule(key=st.sampled_from(CONVERSATIONS))
    def forget(self, key: ConversationKey) -> None:
        self._count()
        self.run(self.memory.forget(key))
        self.model.forget(str(key))
        self.client_turns[str(key)] = 0  # "New chat" semantics: the client starts over

    @rule(user=st.sampled_from(USERS))
    def forget_user(self, user: str) -> None:
        self._count()
        self.run(self.memory.forget_user(user))
        for key in CONVERSATIONS:
            if key.user_id == user:
                self.model.forget(str(key))
                self.client_turns[str(key)] = 0

    @rule()
    def sweep(self) -> None:
        self._count()
        self.run(self.memory.sweep())
        self.model.sweep(self.now)

    @invariant()
    def held_count(self) -> None:
        stats = self.run(self.memory.stats())
        assert stats.conversations == len(self.model.held), (stats, list(self.model.held))

    def teardown(self) -> None:
        self.run(self.memory.close())
        self.loop.close()


class InProcessMachine(MemoryMachine):
    def make_memory(self) -> ConversationMemory:
        return InProcessMemory(window=WINDOW, ttl_seconds=TTL, max_conversations=CAP,
                               tombstone_seconds=TOMBSTONE, clock=lambda: self.now)

    @precondition(lambda self: self.expires)
    @rule(seconds=st.sampled_from([1.0, TTL / 2, TTL - 1, TTL, TTL + 1, TOMBSTONE + 1]))
    def jump(self, seconds: float) -> None:
        """The clock moves on: past the TTL, up to it, past the tombstone lifetime."""
        self._count()
        self.now += seconds


class RedisMachine(MemoryMachine):
    expires = False
    server: RedisServer | None = None

    def make_memory(self) -> ConversationMemory:
        assert self.server is not None
        self.prefix = f"spotter-model-{uuid.uuid4().hex}"
        return RedisMemory.from_url(self.server.url(4), window=WINDOW, ttl_seconds=86_400, max_conversations=CAP,
                                    tombstone_seconds=86_400, prefix=self.prefix)

    def teardown(self) -> None:
        assert isinstance(self.memory, RedisMemory)
        client = self.memory.client

        async def clean() -> None:
            keys = [k async for k in client.scan_iter(match=f"{self.prefix}:*")]
            if keys:
                await client.delete(*keys)

        self.run(clean())
        super().teardown()

    @initialize()
    def start(self) -> None:
        self._count()


def _settings(examples: int) -> settings:
    return settings(max_examples=scaled(examples), stateful_step_count=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_in_process_memory_follows_the_model(figures: RunFigures) -> None:
    InProcessMachine.steps = 0
    try:
        run_state_machine_as_test(InProcessMachine, settings=_settings(60))
    finally:
        figures.add("memory_model_steps", InProcessMachine.steps)


def test_redis_memory_follows_the_model(redis_server: RedisServer, figures: RunFigures) -> None:
    RedisMachine.server = redis_server
    RedisMachine.steps = 0
    try:
        run_state_machine_as_test(RedisMachine, settings=_settings(30))
    finally:
        figures.add("memory_model_steps", RedisMachine.steps)


async def _three_then_a_fourth(memory: InProcessMemory, now: list[float], resend_first: bool) -> None:
    user, assistant = ChatMessage("user", "q"), ChatMessage("assistant", "a")
    for key in CONVERSATIONS[:3]:
        await memory.append_turn(key, user, assistant, 1)
        now[0] += 1
    if resend_first:
        await memory.append_turn(CONVERSATIONS[0], user, assistant, 1)  # the retried commit
    else:
        now[0] += TTL  # all three are now idle past the TTL (the sweeper has not run yet)
    await memory.append_turn(CONVERSATIONS[3], user, assistant, 1)


async def test_an_expired_conversation_pushed_out_by_the_cap_is_reported_expired() -> None:
    now = [0.0]
    memory = InProcessMemory(window=WINDOW, ttl_seconds=TTL, max_conversations=CAP, tombstone_seconds=TOMBSTONE,
                             clock=lambda: now[0])
    await _three_then_a_fourth(memory, now, resend_first=False)
    assert (await memory.load(CONVERSATIONS[0])).tombstone is LossReason.EXPIRED


async def test_a_resent_commit_does_not_make_a_conversation_recent() -> None:
    now = [0.0]
    memory = InProcessMemory(window=WINDOW, ttl_seconds=TTL, max_conversations=CAP, tombstone_seconds=TOMBSTONE,
                             clock=lambda: now[0])
    await _three_then_a_fourth(memory, now, resend_first=True)
    assert (await memory.load(CONVERSATIONS[0])).tombstone is LossReason.EVICTED  # the oldest commit goes
    assert (await memory.load(CONVERSATIONS[1])).state is not None
