"""The soak (`make soak`): a bounded mixed load with faults against ONE service, then the figures.

For `SPOTTER_SOAK_SECONDS` (default 600) one `spotter serve` process on loopback, answering through
the loopback LLM (`soak_llm.SoakLLMProcess`, a process of its own), carries at once:
`SPOTTER_SOAK_STREAMS` clients (default 2,000) each holding a slowly streamed turn after another in
its own conversation, some with an Idempotency-Key; clients leaving at random points (`storm.drop`)
and resending keyed turns (join, resume, replay); LLM faults on a schedule (each case of
`test_llm_faults.py`, and whole-service 529 outages); the hostile inputs of `test_bad_input.py`
aimed at a live conversation; cross-user probes on the streamers' conversations. Every completed
turn is checked against what its client saw commit (`soak_ledger.Ledger`). Launching stops early
enough for the wind-down to end on time: in-flight turns finish, the gauges settle, every
conversation takes one last checked turn, RSS is compared with the baseline, and the figures print
as the table of docs/reliability.md. Skipped unless SPOTTER_SOAK=1, so `make test` does not run it.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import SOAK, llm_env, responses_with_status, running_service
from tests.reliability.figures import RunFigures
from tests.reliability.report import table
from tests.reliability.soak_ledger import Ledger, Verdict
from tests.reliability.soak_llm import SoakLLMProcess, seen_ids
from tests.reliability.storm import (
    DROP_MODES,
    IDLE_GAUGES,
    Conversation,
    drop,
    first_message,
    gauges,
    settle,
    sse_frames,
    vm_rss_kib,
)
from tests.reliability.test_bad_input import BODIES, HEADERS
from tests.reliability.test_llm_faults import AFTER_TEXT, BEFORE_TEXT
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.skipif(not SOAK, reason="the soak runs in `make soak` (SPOTTER_SOAK=1)")

SECONDS = float(os.environ.get("SPOTTER_SOAK_SECONDS", "600"))
#: Streaming clients at once: the issue's 10x of the 200 streams `make test` holds. On this 2-core
#: machine one worker held them (peak 1,850 open) with every must-be-zero figure 0, but not in every
#: run yet; 500 runs clean (docs/reliability.md, "Soak").
STREAMS = int(os.environ.get("SPOTTER_SOAK_STREAMS", "2000"))
LLM_TIMEOUT = 4.0
DELTA_DELAY = 1.5  # between text deltas of a held stream: well inside the LLM timeout
DROP_ROOM = 30 * DELTA_DELAY + 10  # the longest drop reads 30 events before leaving
#: Seconds a held stream lasts: long, so many streams are open at once for few turns a second
#: (240 s in a 10-minute run: 2,000 clients then start about 8 turns a second).
HOLD = float(os.environ.get("SPOTTER_SOAK_HOLD_SECONDS", min(240.0, max(5.0, SECONDS * 0.4))))
#: After the last launch: in-flight turns end, gauges settle, one last turn each (2,000 clients
#: took 338 s of the 326 s STREAMS / 30 gave, so the run ended 12 s late).
WIND_DOWN = HOLD + 20 + STREAMS / 20
DROP_RATE, KEYED_RATE, REPLAY_RATE = 0.15, 0.3, 0.25
FAULT_EVERY, OUTAGE_EVERY, OUTAGE_SECONDS = 3.0, 6, 2.0  # a fault every ~3 s, every 6th an outage
PROBE_EVERY, HOSTILE_EVERY = 0.5, 0.5
LANES = 3  # fault, hostile-input and probing clients of each kind, side by side
#: The leak check: Python heap blocks (`spotter_python_allocated_blocks`), idle after the load against
#: idle after the warm-up, which filled every window. Fewer than the run's requests (about 16,000 at
#: the default), so one object leaked per request fails it. RSS is not the check: the allocator keeps
#: the pages of the peak of open streams (about 54 KB each, docs/benchmarks.md) after they close.
BLOCKS = "spotter_python_allocated_blocks"
BLOCK_SLACK = 10_000
#: A ceiling on RSS idle after the load: the benchmark's goal for 5,000 open streams.
RSS_CEILING_KIB = 1024 * 1024
WARM_UP_SPREAD = STREAMS / 200  # seconds over which the streamers' first turns start
WARM_UP_WORDS = 10  # a 15 s warm-up answer at DELTA_DELAY a word
FILL_TURNS = 2  # unpaced keyed turns after the warm-up: a full window and replay records
FAULTS = {**BEFORE_TEXT, **AFTER_TEXT}
RETRY_STATUSES = {409, 503}  # the conversation's last turn is still ending; admission says retry


@dataclass(slots=True)
class SoakConversation(Conversation):
    """A storm conversation that may send an Idempotency-Key, with the ledger of what it committed."""

    ledger: Ledger = field(default_factory=Ledger)
    key: str | None = None
    last_key: tuple[str, str] | None = None  # (key, message) of its last keyed turn

    def headers(self) -> dict[str, str]:
        headers = Conversation.headers(self)
        headers["X-Request-Id"] = self.tag  # the message id: a problem can be found in the service log
        if self.key is not None:
            headers["Idempotency-Key"] = self.key
        return headers


@dataclass(slots=True)
class Outcome:
    """How one turn ended, as its client saw it."""

    status: int
    events: list[tuple[str, dict[str, object]]]

    @property
    def last(self) -> str:
        return self.events[-1][0] if self.events else ""

    @property
    def text(self) -> str:
        return "".join(str(data["delta"]) for name, data in self.events if name == "response")

    def value(self, name: str) -> object:
        return self.events[-1][1].get(name) if self.events else None


@dataclass(slots=True)
class Run:
    """What the roles share: the client, the deadline, the figures and every problem seen."""

    client: httpx.AsyncClient
    service: ServiceProcess
    llm: SoakLLMProcess
    launch_until: float
    figures: RunFigures = field(default_factory=RunFigures)
    problems: list[str] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    resends: int = 0
    ids: Iterator[int] = field(default_factory=itertools.count)

    @property
    def launching(self) -> bool:
        return time.monotonic() < self.launch_until

    def problem(self, figure: str | None, detail: str) -> None:
        if figure is not None:
            self.figures.add(figure)
        self.problems.append(detail)

    def judge(self, verdict: Verdict | None) -> bool:
        if verdict is not None:
            self.problem("turns_lost" if verdict.kind == "lost" else "duplicate_turns", verdict.detail)
        return verdict is None

    def next_id(self, conversation: SoakConversation) -> str:
        conversation.tag = f"{conversation.user.split(':')[1]}M{next(self.ids)}"
        return conversation.tag

    async def exchange(
        self, conversation: SoakConversation, message: str, *, retries: int = 120, extra: Mapping[str, str] = {}
    ) -> Outcome:
        """Send a turn and read its stream; a 409/503 is retried (`retries` times), as a client would."""
        for attempt in range(retries + 1):
            headers = {**conversation.headers(), **extra}
            try:
                async with self.client.stream("POST", f"{self.service.url}/v1/chat", json={"message": message},
                                              headers=headers) as response:
                    body = await response.aread()
            except httpx.HTTPError as error:
                self.problem(None, f"{conversation.tag}: {error!r} (service log: {self.service.log_path})")
                return Outcome(0, [])
            if response.status_code not in RETRY_STATUSES or attempt == retries:
                break
            await asyncio.sleep(float(response.headers.get("retry-after", "1")) / 2)
        if response.status_code != 200:
            self.problem(None, f"{conversation.tag}: {response.status_code} {body[:200]!r}")
            return Outcome(response.status_code, [])
        self.figures.add("streams_held")
        outcome = Outcome(200, sse_frames(body))
        if outcome.last == "done":
            turn = outcome.value("turn")
            assert isinstance(turn, int)
            conversation.turn = turn
            if outcome.value("finish_reason") != "stop":
                self.problem("cross_user_reads", f"{conversation.tag} ended {outcome.value('finish_reason')}")
        elif outcome.last == "error":
            self.errors[str(outcome.value("code"))] += 1
        else:
            self.problem(None, f"{conversation.tag}: the stream ended after {outcome.last!r}")
        return outcome

    async def turn(self, conversation: SoakConversation, message_id: str, *, retries: int = 120,
                   extra: Mapping[str, str] = {}) -> tuple[Outcome, bool]:
        """A whole turn, checked against the conversation's ledger; whether it ended `done` and right."""
        outcome = await self.exchange(conversation, first_message(conversation), retries=retries, extra=extra)
        if outcome.last == "done":
            return outcome, self.judge(conversation.ledger.completed(message_id, conversation.turn,
                                                                     seen_ids(outcome.text)))
        if outcome.last == "error":
            conversation.ledger.failed(message_id, text_seen=bool(outcome.text))
        return outcome, False


async def _stream_forever(run: Run, conversation: SoakConversation, rng: random.Random) -> None:
    """One streaming client: held turns, sometimes keyed, sometimes left, resent or replayed."""
    while run.launching:
        message_id = run.next_id(conversation)
        conversation.key = message_id if rng.random() < KEYED_RATE else None
        # A left turn takes a second turn to resolve, which must start before launching ends: leave
        # only when there is time for the longest drop (30 events in) and that next start.
        room = run.launch_until - time.monotonic() > DROP_ROOM
        if room and conversation.ledger.uncertain is None and rng.random() < DROP_RATE:
            await drop(run.client, run.service.port, conversation, rng.choice(DROP_MODES), rng)
            run.figures.add("streams_held")
            run.figures.add("clients_disconnected")
            if conversation.key is None:
                conversation.ledger.left(message_id)
            else:  # a keyed turn outlives its client: join it (or resume it) and see it end
                run.resends += 1
                resume = {"Last-Event-ID": "1"} if rng.random() < 0.5 else {}
                await run.turn(conversation, message_id, extra=resume)
            continue
        outcome, _ = await run.turn(conversation, message_id)
        if conversation.key is not None and outcome.last == "done":
            conversation.last_key = (conversation.key, first_message(conversation))
            if rng.random() < REPLAY_RATE:
                run.resends += 1
                original = conversation.turn
                again = await run.exchange(conversation, first_message(conversation))
                if again.last != "done" or again.events != outcome.events:
                    run.problem("duplicate_turns", f"{message_id}: the replay differs: {again.events[-1:]}")
                else:
                    run.judge(conversation.ledger.replayed(message_id, conversation.turn, original))
        await asyncio.sleep(rng.uniform(0, 1))


async def _inject_faults(run: Run, lane: int, rng: random.Random) -> tuple[SoakConversation, ...]:
    """A fault every FAULT_EVERY s: one LLM failure case on a turn, or (lane 0) a 529 outage of all."""
    conversation = SoakConversation(f"soak:F{lane}C0", "")
    for count in itertools.count(1 + lane * 7):
        await asyncio.sleep(FAULT_EVERY * rng.uniform(0.5, 1.5))
        if not run.launching:
            break
        run.figures.add("faults_injected")
        if lane == 0 and count % OUTAGE_EVERY == 0:
            run.llm.outage_until = time.monotonic() + OUTAGE_SECONDS
            await asyncio.sleep(OUTAGE_SECONDS)
        else:
            case = list(FAULTS)[count % len(FAULTS)]
            _, code, retryable = FAULTS[case]
            message_id = run.next_id(conversation)
            outcome = await run.exchange(conversation, f"{first_message(conversation)} [fault:{case}]")
            conversation.ledger.failed(message_id, text_seen=bool(outcome.text))
            if (outcome.last, outcome.value("code"), outcome.value("retryable")) != ("error", code, retryable):
                run.problem(None, f"fault {case}: {[name for name, _ in outcome.events]}, {outcome.events[-1:]}")
                continue
            if bool(outcome.text) != (case in AFTER_TEXT):  # text before the failure, or none
                run.problem(None, f"fault {case}: text {outcome.text!r}")
                continue
        for _ in range(3):  # another lane's outage may still be on: the next turn after it counts
            following, survived = await run.turn(conversation, run.next_id(conversation))
            if survived or following.value("code") != "llm_overloaded":
                break
            await asyncio.sleep(OUTAGE_SECONDS)
        if survived:
            run.figures.add("faults_survived")
        else:  # not a must-be-zero figure, but every one needs its reason in the report
            run.problem(None, f"{conversation.tag}: the turn after a fault ended {following.status} "
                              f"{following.last} {following.value('code')}")
    return (conversation,)


async def _aim_hostile_inputs(run: Run, lane: int, rng: random.Random) -> tuple[SoakConversation, ...]:
    """Bad bodies and headers aimed at a live conversation: each a 4xx problem, memory untouched."""
    conversation = SoakConversation(f"soak:H{lane}C0", "")
    cases = [("body", name) for name in BODIES] + [("header", name) for name in HEADERS]
    while run.launching:
        await run.turn(conversation, run.next_id(conversation))
        for kind, name in rng.sample(cases, rng.randint(2, 6)):
            if kind == "body":
                body, content_type = BODIES[name]
                path = rng.choice(("/v1/chat", "/v1/workouts"))
                headers = conversation.headers()
                if content_type:
                    headers["Content-Type"] = content_type
                else:
                    headers.pop("Content-Type")
                sending = run.client.post(run.service.url + path, content=body, headers=headers)
            else:
                merged = {**conversation.headers(), **HEADERS[name]}
                raw = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in merged.items()}
                sending = run.client.post(f"{run.service.url}/v1/chat", json={"message": "hi"}, headers=raw)
            run.figures.add("inputs_tried")
            sent_at = time.monotonic()
            try:
                response = await sending
            except httpx.HTTPError as error:
                run.problem(None, f"hostile {kind} {name!r}: {error!r} after {time.monotonic() - sent_at:.0f} s")
                continue
            if not (400 <= response.status_code < 500
                    and response.headers.get("content-type") == "application/problem+json"):
                run.problem(None, f"hostile {kind} {name!r}: {response.status_code} {response.text[:200]}")
        await asyncio.sleep(HOSTILE_EVERY)
    return (conversation,)


async def _probe_across_users(run: Run, streamers: list[SoakConversation], lane: int, rng: random.Random) -> None:
    """Another user reuses a streamer's conversation id, turn number and Idempotency-Key, cancels
    and deletes it: the streamer's messages never reach the prober, and its own ledger stays right."""
    for count in itertools.count():
        await asyncio.sleep(PROBE_EVERY)
        if not run.launching:
            return
        victim = rng.choice(streamers)
        if not victim.ledger.committed:
            continue
        prober = SoakConversation(f"soak:P{count * LANES + lane}C0", "", conversation=victim.conversation,
                                  turn=victim.turn)
        attempts: list[tuple[str, str | None]] = [(run.next_id(prober), None)]
        if victim.last_key is not None:
            attempts.append(victim.last_key)
        planted = victim.user.split(":")[1] + "M"  # the prefix of every id of the victim's messages
        for sent_id, message in attempts:
            # Its own turn on the victim's conversation id, then a resend of the victim's last
            # keyed turn (same key, same message): it must run as the prober's own turn, not a replay.
            prober.key = None if message is None else sent_id
            outcome = await run.exchange(prober, first_message(prober) if message is None else message)
            run.figures.add("isolation_probes")
            if planted in str(outcome.events).replace(sent_id, ""):
                run.problem("cross_user_reads", f"{prober.user} read {victim.user}: {outcome.events[-3:]}")
        url = f"{run.service.url}/v1/conversations/{victim.conversation}"
        for response in (await run.client.post(f"{url}/cancel", headers=prober.headers()),
                         await run.client.delete(url, headers=prober.headers())):
            run.figures.add("isolation_probes")
            if response.status_code != 204:
                run.problem(None, f"{prober.user} cancel/delete: {response.status_code}")


async def _sample_load(run: Run, samples: list[tuple[float, float]]) -> None:
    """Open streams on the service and the machine's load average, every 5 s."""
    while run.launching:
        values = await gauges(run.client, run.service.url)
        samples.append((values["spotter_open_streams"], os.getloadavg()[0]))
        await asyncio.sleep(5)


#: Kernel TCP counters whose growth over the run points at the network stack (loopback drops
#: nothing unless a queue is full): listen-queue overflows, SYN and data retransmission timeouts.
TCP_COUNTERS = ("ListenOverflows", "TCPSynRetrans", "TCPTimeouts", "RetransSegs", "TCPBacklogDrop")


def _tcp_counters() -> dict[str, int]:
    """This network namespace's counters from /proc/net/netstat and /proc/net/snmp."""
    values: dict[str, int] = {}
    for path in ("/proc/net/netstat", "/proc/net/snmp"):
        with open(path, encoding="ascii") as table:
            lines = table.read().splitlines()
        for names, numbers in zip(lines[::2], lines[1::2], strict=True):
            values.update(zip(names.split()[1:], map(int, numbers.split()[1:]), strict=True))
    return {name: values.get(name, 0) for name in TCP_COUNTERS}


def _memory_held(gauges: Mapping[str, float]) -> str:
    """The memory backend's counts from /metrics, to tell held state from a leak in RSS growth."""
    return ", ".join(f"{int(gauges.get(f'spotter_memory_{name}', 0)):,} {name}"
                     for name in ("conversations", "turn_records", "tombstones"))


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def soak_llm() -> Iterator[SoakLLMProcess]:
    with SoakLLMProcess({case: behaviour for case, (behaviour, _, _) in FAULTS.items()},
                        words=round(HOLD / DELTA_DELAY), delay=DELTA_DELAY) as server:
        yield server


@pytest.fixture(scope="module")
def soak_service(
    built_index: Path, soak_llm: SoakLLMProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    # INFO: one access line per request (request id = message id, status, duration), so a turn
    # the soak reports can be followed in the service log.
    env = llm_env(soak_llm, SPOTTER_LLM_TIMEOUT_SECONDS=str(LLM_TIMEOUT), SPOTTER_MEMORY_WINDOW="6",
                  SPOTTER_MAX_STREAMS_PER_USER="1000", SPOTTER_LOG_LEVEL="INFO")
    with running_service(tmp_path_factory.mktemp("soak"), env, built_index) as service:
        yield service


async def test_a_bounded_mixed_load_with_faults_loses_nothing_and_leaks_nothing(
    soak_service: ServiceProcess, soak_llm: SoakLLMProcess, figures: RunFigures, capsys: pytest.CaptureFixture[str]
) -> None:
    started, tcp_before = time.monotonic(), _tcp_counters()
    assert soak_service.process is not None
    pid, rng = soak_service.process.pid, random.Random(11)
    # Idle connections are dropped long before the service's 75 s keep-alive ends (bug 5).
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=200, keepalive_expiry=3)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        run = Run(client, soak_service, soak_llm, launch_until=started + SECONDS - WIND_DOWN)
        streamers = [SoakConversation(f"soak:S{n}C0", "") for n in range(STREAMS)]
        # Warm-up: every streamer's first turn, all open together at the end (15 s answers
        # started over WARM_UP_SPREAD s), so pools, caches and allocator arenas reach the working
        # size of that many streams before the baseline. Spread, not in one instant: 2,000 turns
        # started in the same millisecond keep one worker busy for seconds before their LLM calls
        # are read, and the soak's 4 s LLM timeout then fails most of them (1,890 of 2,000 seen).
        # Paced like the held load (a word per DELTA_DELAY), only shorter: at 0.1 s a word the
        # 2,000 answers were 20,000 events a second, and the service started new turns minutes late.
        held_words, soak_llm.words = soak_llm.words, WARM_UP_WORDS

        async def first_turn(conversation: SoakConversation) -> None:
            await asyncio.sleep(rng.uniform(0, WARM_UP_SPREAD))
            await run.turn(conversation, run.next_id(conversation))

        await asyncio.gather(*(first_turn(c) for c in streamers))
        soak_llm.words = held_words
        # Then fill every streamer's memory to the size the load leaves it at: two more keyed turns
        # with held-length answers, unpaced, make a whole window and the most replay records. The
        # baseline then holds the load's conversation state, and the growth left is leak or heap.
        held_delay, soak_llm.delay = soak_llm.delay, 0.0
        slots = asyncio.Semaphore(100)  # the unpaced waves (this fill, the last turns) run 100 at a time

        async def fill(conversation: SoakConversation) -> None:
            for _ in range(FILL_TURNS):
                conversation.key = run.next_id(conversation)
                async with slots:
                    await run.turn(conversation, conversation.key)
            conversation.key = None

        await asyncio.gather(*(fill(c) for c in streamers))
        warm_up_errors = dict(run.errors)
        soak_llm.delay = held_delay
        at_baseline = await settle(client, soak_service.url)
        baseline = vm_rss_kib(pid)
        # The SECONDS of load start now; the warm-up above comes on top of them.
        load_started = time.monotonic()
        run.launch_until = load_started + SECONDS - WIND_DOWN

        samples: list[tuple[float, float]] = []
        # The streamers' first held turns start evenly over one hold, or over what is left of the
        # launch window if that is shorter, so all of them are streaming before launching ends.
        spread = max(0.0, min(HOLD, run.launch_until - time.monotonic() - 10))

        async def streamer(conversation: SoakConversation, delay: float) -> None:
            await asyncio.sleep(delay)  # the turns' phases, spread (see `spread`)
            await _stream_forever(run, conversation, random.Random(rng.random()))

        lanes = [asyncio.ensure_future(role) for role in (
            *(_inject_faults(run, lane, random.Random(lane)) for lane in range(LANES)),
            *(_aim_hostile_inputs(run, lane, random.Random(10 + lane)) for lane in range(LANES)),
        )]
        await asyncio.gather(
            *lanes,
            *(_probe_across_users(run, streamers, lane, random.Random(20 + lane)) for lane in range(LANES)),
            _sample_load(run, samples),
            *(streamer(c, spread * n / STREAMS) for n, c in enumerate(streamers)),
        )
        load_seconds = time.monotonic() - load_started

        # Wind-down: nothing left running, then one last fast, checked turn for every conversation.
        soak_llm.delay, soak_llm.outage_until = 0.0, 0.0
        idle = await settle(client, soak_service.url)
        closed = await soak_llm.wait_for_async(lambda s: s.open_streams == 0, within=15)
        leaked = sum(int(idle[name]) for name in IDLE_GAUGES) + (0 if closed else soak_llm.open_streams)
        run.figures.add("leaked_tasks_or_connections", leaked)

        async def last_turn(conversation: SoakConversation) -> None:
            conversation.key = None
            async with slots:
                outcome, _ = await run.turn(conversation, run.next_id(conversation), retries=3)
            if outcome.status != 200:  # a lock or limit left behind would refuse it
                run.problem("leaked_tasks_or_connections", f"{conversation.tag}: last turn {outcome.status}")

        others = [c for lane in lanes for c in lane.result()]
        await asyncio.gather(*(last_turn(c) for c in [*streamers, *others]))
        at_end = await settle(client, soak_service.url)
        grown = vm_rss_kib(pid) - baseline
        blocks_grown = int(at_end[BLOCKS] - at_baseline[BLOCKS])
        run.figures.add("responses_500", responses_with_status(soak_service, "500"))
    elapsed, warm_up_seconds = time.monotonic() - load_started, load_started - started
    service_cpu, llm_cpu, own_cpu = _cpu_seconds(pid), _cpu_seconds(soak_llm.pid), sum(os.times()[:2])

    peak = max((open_ for open_, _ in samples), default=0)
    with capsys.disabled():
        print(f"\nsoak: {SECONDS:.0f} s asked, {elapsed:.0f} s taken (launching and in-flight turns "
              f"{load_seconds:.0f} s; warm-up before them {warm_up_seconds:.0f} s), {STREAMS} streaming clients, "
              f"peak {peak:.0f} open streams, {HOLD:.0f} s per held stream\n")
        print(table(run.figures.counts))
        print(f"\nIdempotency-Key resends: {run.resends:,}; LLM requests: {soak_llm.received:,}; stream errors by "
              f"code: {dict(run.errors)} (of which in the warm-up: {warm_up_errors}); "
              f"RSS {baseline // 1024} MiB after warm-up, {grown // 1024:+} MiB at the end; Python heap blocks "
              f"{int(at_baseline[BLOCKS]):,} after warm-up, {blocks_grown:+,} at the end; memory held after "
              f"warm-up / at the end: {_memory_held(at_baseline)} / {_memory_held(at_end)}; "
              f"load average peak {max((load for _, load in samples), default=0):.1f}; CPU seconds: service "
              f"{service_cpu:.0f}, loopback LLM {llm_cpu:.0f}, clients {own_cpu:.0f}; kernel TCP counters "
              f"grew {({name: now - tcp_before[name] for name, now in _tcp_counters().items()})}")
        for line in run.problems[:20]:
            print("problem:", line)
    for name, value in run.figures.counts.items():
        if name != "responses_500":  # `running_service` counts the service's 500s when it stops
            figures.add(name, value)
    assert not run.problems, run.problems[:20]
    assert blocks_grown < BLOCK_SLACK, f"the Python heap grew by {blocks_grown:,} blocks"
    assert baseline + grown < RSS_CEILING_KIB, f"RSS {(baseline + grown) // 1024} MiB after the load"
    assert elapsed < SECONDS + 60, f"the load took {elapsed:.0f} s"
