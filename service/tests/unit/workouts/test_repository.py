"""One suite, run against both real databases: SQLite in a temporary directory and PostgreSQL.

Each test gets empty storage of its own (a fresh directory, or a fresh schema on the session's
PostgreSQL server), so tests share nothing.
"""

from __future__ import annotations

import asyncio
import base64
import random
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec
import psycopg
import pytest

from spotter.errors import BackendUnavailable, DatabaseUnavailable
from spotter.workouts.migrations import MIGRATIONS
from spotter.workouts.model import Load, Workout, WorkoutInput, WorkoutSet
from spotter.workouts.paging import (
    BOTTOM_OF_LIST,
    TOP_OF_LIST,
    InvalidCursor,
    SortKey,
    decode_cursor,
    encode_cursor,
)
from spotter.workouts.postgres_repository import PostgresWorkoutRepository
from spotter.workouts.repository import WorkoutRepository
from spotter.workouts.sqlite_repository import SqliteWorkoutRepository
from tests.support.postgres_server import PostgresServer

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ALICE = "user-alice"
BOB = "user-bob"
T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


class SteppingClock:
    """Returns T0, T0 + step, T0 + 2 step, ...: creation times a test can predict."""

    def __init__(self, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = T0
        self.step = step

    def __call__(self) -> datetime:
        now = self.now
        self.now += self.step
        return now


class CyclingClock:
    """Repeats a few instants, so many rows share a creation time (ties broken by id)."""

    def __init__(self, instants: int) -> None:
        self.calls = 0
        self.instants = instants

    def __call__(self) -> datetime:
        self.calls += 1
        return T0 + timedelta(seconds=self.calls % self.instants)


@dataclass
class Backend:
    """One database under test: how to open repositories on this test's own storage."""

    name: str
    opener: Callable[[Callable[[], datetime]], Awaitable[WorkoutRepository]]
    schema_versions: Callable[[], list[int]]
    open_unreachable: Callable[[], Awaitable[WorkoutRepository]]
    opened: list[WorkoutRepository] = field(default_factory=list)

    async def open(self, clock: Callable[[], datetime] | None = None) -> WorkoutRepository:
        repository = await self.opener(clock or SteppingClock())
        self.opened.append(repository)
        return repository


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    server: PostgresServer | None = None
    if request.param == "sqlite":
        built = _sqlite_backend(tmp_path)
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_schema()
        built = _postgres_backend(url)
    try:
        yield built
    finally:
        for repository in built.opened:
            await repository.close()
        if server is not None:
            server.drop_schema(url)


@pytest.fixture
async def repository(backend: Backend) -> AsyncIterator[WorkoutRepository]:
    opened = await backend.open()
    yield opened
    await opened.close()


def _sqlite_backend(data_dir: Path) -> Backend:
    async def opener(clock: Callable[[], datetime]) -> WorkoutRepository:
        return await SqliteWorkoutRepository.open(data_dir, clock=clock)

    def schema_versions() -> list[int]:
        with closing(sqlite3.connect(data_dir / "spotter.db")) as db:
            return [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY 1")]

    async def open_unreachable() -> WorkoutRepository:
        occupied = data_dir / "a-file"
        occupied.write_text("not a directory")
        return await SqliteWorkoutRepository.open(occupied / "data")

    return Backend("sqlite", opener, schema_versions, open_unreachable)


def _postgres_backend(url: str) -> Backend:
    async def opener(clock: Callable[[], datetime]) -> WorkoutRepository:
        return await PostgresWorkoutRepository.open(url, pool_size=3, clock=clock)

    def schema_versions() -> list[int]:
        with psycopg.connect(url) as db:
            return [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY 1")]

    async def open_unreachable() -> WorkoutRepository:
        return await PostgresWorkoutRepository.open(
            f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres", connect_timeout=2
        )

    return Backend("postgres", opener, schema_versions, open_unreachable)


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting is refused


def leg_day(day: str = "2026-11-18", title: str = "Leg day") -> WorkoutInput:
    return WorkoutInput(
        date=date.fromisoformat(day),
        title=title,
        notes="Felt strong.\nDepth was good.",
        sets=(
            *[WorkoutSet("Back squat", 5, load=Load(100, "kg"), rpe=8)] * 5,
            WorkoutSet("Leg press", 12, load=Load(402.5, "lb")),
            WorkoutSet("Walking lunge", 20, rpe=7.5),
            WorkoutSet("Plank", 1),
        ),
    )


def on(day: str, title: str = "Session") -> WorkoutInput:
    return WorkoutInput(date=date.fromisoformat(day), title=title)


def newest_first(workouts: list[Workout]) -> list[Workout]:
    return sorted(workouts, key=lambda w: (w.date, w.created_at, w.id), reverse=True)


async def all_pages(repository: WorkoutRepository, user_id: str, limit: int, **dates: date) -> list[list[Workout]]:
    pages: list[list[Workout]] = []
    cursor: str | None = None
    while True:
        page = await repository.list(user_id, limit=limit, cursor=cursor, **dates)
        pages.append(list(page.items))
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
        assert len(pages) < 1000, "paging does not end"


# --- create and get ---------------------------------------------------------------------------


async def test_create_stores_the_input_with_a_new_uuid_and_utc_time(backend: Backend) -> None:
    repository = await backend.open(SteppingClock())
    created = await repository.create(ALICE, leg_day())

    assert uuid.UUID(created.id).version == 4
    assert str(uuid.UUID(created.id)) == created.id
    assert created.created_at == T0
    assert created.created_at.utcoffset() == timedelta(0)
    assert (created.date, created.title, created.notes, created.sets) == (
        date(2026, 11, 18),
        "Leg day",
        "Felt strong.\nDepth was good.",
        leg_day().sets,
    )
    fetched = await repository.get(ALICE, created.id)
    assert fetched == created
    assert msgspec.json.encode(fetched) == msgspec.json.encode(created)


async def test_a_bodyweight_set_comes_back_without_load_or_rpe(repository: WorkoutRepository) -> None:
    created = await repository.create(ALICE, on("2026-11-18"))
    stored = await repository.create(
        ALICE, WorkoutInput(date=date(2026, 11, 18), title="Pull", sets=(WorkoutSet("Pull-up", 8),))
    )
    fetched = await repository.get(ALICE, stored.id)
    assert fetched is not None
    assert msgspec.json.decode(msgspec.json.encode(fetched))["sets"] == [{"exercise": "Pull-up", "reps": 8}]
    empty = await repository.get(ALICE, created.id)
    assert empty is not None
    assert (empty.notes, empty.sets) == ("", ())


async def test_get_answers_none_for_unknown_or_malformed_ids(repository: WorkoutRepository) -> None:
    created = await repository.create(ALICE, on("2026-11-18"))
    assert await repository.get(ALICE, str(uuid.uuid4())) is None
    assert await repository.get(ALICE, "not-a-uuid") is None
    assert await repository.get(ALICE, "") is None
    assert await repository.get(ALICE, created.id.upper()) == created


async def test_concurrent_creates_all_land(repository: WorkoutRepository) -> None:
    created = await asyncio.gather(*(repository.create(ALICE, on("2026-11-18")) for _ in range(30)))
    page = await repository.list(ALICE, limit=100)
    assert {w.id for w in page.items} == {w.id for w in created}


# --- list ordering and paging -----------------------------------------------------------------


async def test_list_is_newest_first_by_date_then_created_at_then_id(backend: Backend) -> None:
    # Two creation times only, so several rows tie on (date, created_at) and order by id.
    repository = await backend.open(CyclingClock(instants=2))
    days = ["2026-11-16", "2026-11-18", "2026-11-17", "2026-11-18", "2026-11-16", "2026-11-18"]
    created = [await repository.create(ALICE, on(day)) for day in days * 2]

    page = await repository.list(ALICE, limit=100)

    assert list(page.items) == newest_first(created)
    assert page.next_cursor is None
    assert [w.date.day for w in page.items] == [18] * 6 + [17] * 2 + [16] * 4


@pytest.mark.parametrize("limit", [1, 3, 7, 12, 20, 100])
async def test_paging_visits_every_workout_exactly_once(backend: Backend, limit: int) -> None:
    repository = await backend.open(CyclingClock(instants=3))
    days = ["2026-11-18", "2026-11-17", "2026-11-18", "2026-11-15"]
    created = [await repository.create(ALICE, on(days[i % 4])) for i in range(24)]

    pages = await all_pages(repository, ALICE, limit)

    assert [w for page in pages for w in page] == newest_first(created)
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit  # a full last page is not followed by an empty one


async def test_the_default_page_holds_twenty(repository: WorkoutRepository) -> None:
    for _ in range(21):
        await repository.create(ALICE, on("2026-11-18"))
    first = await repository.list(ALICE)
    assert len(first.items) == 20
    assert first.next_cursor is not None
    rest = await repository.list(ALICE, cursor=first.next_cursor)
    assert (len(rest.items), rest.next_cursor) == (1, None)


async def test_paging_continues_after_the_cursor_when_workouts_are_added(
    repository: WorkoutRepository,
) -> None:
    created = [await repository.create(ALICE, on(f"2026-11-{day:02d}")) for day in range(10, 20)]
    first = await repository.list(ALICE, limit=4)
    assert first.next_cursor is not None

    newer = await repository.create(ALICE, on("2026-11-30"))  # before the cursor: not shown
    older = await repository.create(ALICE, on("2026-11-11"))  # after the cursor: shown
    rest = [w for page in await _pages_from(repository, first.next_cursor) for w in page]

    assert newer not in rest
    assert rest == newest_first([*created[:6], older])
    assert not {w.id for w in rest} & {w.id for w in first.items}


async def _pages_from(repository: WorkoutRepository, cursor: str) -> list[list[Workout]]:
    pages = []
    next_cursor: str | None = cursor
    while next_cursor is not None:
        page = await repository.list(ALICE, limit=4, cursor=next_cursor)
        pages.append(list(page.items))
        next_cursor = page.next_cursor
    return pages


async def test_list_filters_by_an_inclusive_date_range(repository: WorkoutRepository) -> None:
    created = [await repository.create(ALICE, on(f"2026-11-{day:02d}")) for day in range(10, 21)]

    def dated(first: int, last: int) -> list[Workout]:
        return newest_first([w for w in created if first <= w.date.day <= last])

    between = await all_pages(repository, ALICE, 2, date_from=date(2026, 11, 12), date_to=date(2026, 11, 15))
    assert [w for page in between for w in page] == dated(12, 15)
    since = await repository.list(ALICE, limit=100, date_from=date(2026, 11, 18))
    assert list(since.items) == dated(18, 20)
    until = await repository.list(ALICE, limit=100, date_to=date(2026, 11, 11))
    assert list(until.items) == dated(10, 11)
    single = await repository.list(ALICE, date_from=date(2026, 11, 13), date_to=date(2026, 11, 13))
    assert list(single.items) == dated(13, 13)
    inverted = await repository.list(ALICE, date_from=date(2026, 11, 15), date_to=date(2026, 11, 12))
    assert (inverted.items, inverted.next_cursor) == ((), None)


async def test_in_range_returns_the_range_oldest_first(repository: WorkoutRepository) -> None:
    created = [await repository.create(ALICE, on(f"2026-11-{day:02d}")) for day in range(1, 21)]
    created.append(await repository.create(ALICE, on("2026-11-10", "Second session")))

    week = await repository.in_range(ALICE, date(2026, 11, 9), date(2026, 11, 15))

    assert week == list(reversed(newest_first([w for w in created if 9 <= w.date.day <= 15])))
    assert [w.date.day for w in week] == [9, 10, 10, 11, 12, 13, 14, 15]
    capped = await repository.in_range(ALICE, date(2026, 11, 9), date(2026, 11, 15), limit=3)
    assert [w.date.day for w in capped] == [13, 14, 15]  # the newest three, oldest first
    assert await repository.in_range(ALICE, date(2026, 12, 1), date(2026, 12, 31)) == []
    with pytest.raises(ValueError, match="limit"):
        await repository.in_range(ALICE, date(2026, 11, 9), date(2026, 11, 15), limit=0)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "not base64 at all",
        "é",
        "A" * 500,
        "A" * 35,
        "A" * 35 + "=",
        "A" * 35 + "/",
        base64.urlsafe_b64encode(b'["2026-11-18", 1, "not-a-uuid"]').decode(),
    ],
)
async def test_a_cursor_of_another_shape_is_a_value_error(repository: WorkoutRepository, cursor: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        await repository.list(ALICE, cursor=cursor)
    assert isinstance(raised.value, ValueError)


async def test_any_cursor_of_the_specified_shape_lists_the_rows_after_its_position(backend: Backend) -> None:
    repository = await backend.open(CyclingClock(instants=2))
    days = ["2026-11-16", "2026-11-18", "2026-11-17", "2026-11-18"]
    created = newest_first([await repository.create(ALICE, on(day)) for day in days * 3])
    chosen = random.Random(7)
    made_up = ["".join(chosen.choice(BASE64URL) for _ in range(36)) for _ in range(20)]
    # Positions between, on and around real rows, beyond every row, and made-up values.
    between = [encode_cursor(SortKey(w.date, w.created_at, str(uuid.UUID(int=uuid.UUID(w.id).int ^ 1))))
               for w in created]
    edges = ["A" * 36, "_" * 36, "0" * 36, "-" * 36, encode_cursor(TOP_OF_LIST), encode_cursor(BOTTOM_OF_LIST)]
    for cursor in [*made_up, *between, *edges, *(encode_cursor(SortKey.of(w)) for w in created)]:
        position = decode_cursor(cursor)
        page = await repository.list(ALICE, limit=100, cursor=cursor)
        expected = [w for w in created if (w.date, w.created_at, w.id) < _key(position)]
        assert (list(page.items), page.next_cursor) == (expected, None), cursor


def _key(position: SortKey) -> tuple[date, datetime, str]:
    return position.date, position.created_at, position.id


@pytest.mark.parametrize("limit", [1, 4, 7, 20])
async def test_paging_through_many_workouts_on_one_date_returns_each_once_in_order(
    backend: Backend, limit: int
) -> None:
    # 25 workouts on one date and only 4 creation times: the order rests on created_at and id.
    repository = await backend.open(CyclingClock(instants=4))
    created = [await repository.create(ALICE, on("2026-11-18")) for _ in range(25)]

    pages = await all_pages(repository, ALICE, limit)

    listed = [w for page in pages for w in page]
    assert listed == newest_first(created)
    assert len({w.id for w in listed}) == 25
    assert all(len(page) == limit for page in pages[:-1])


async def test_a_cursor_from_a_deleted_row_still_continues(repository: WorkoutRepository) -> None:
    created = [await repository.create(ALICE, on(f"2026-11-{day:02d}")) for day in range(10, 16)]
    first = await repository.list(ALICE, limit=2)
    assert first.next_cursor is not None
    assert await repository.delete(ALICE, first.items[-1].id)
    rest = await repository.list(ALICE, limit=100, cursor=first.next_cursor)
    assert list(rest.items) == newest_first(created)[2:]


@pytest.mark.parametrize("limit", [0, -1, 101])
async def test_a_limit_outside_1_to_100_is_a_value_error(repository: WorkoutRepository, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        await repository.list(ALICE, limit=limit)


# --- delete -------------------------------------------------------------------------------------


async def test_delete_removes_only_that_workout(repository: WorkoutRepository) -> None:
    keep = await repository.create(ALICE, on("2026-11-18"))
    drop = await repository.create(ALICE, on("2026-11-18"))

    assert await repository.delete(ALICE, drop.id) is True
    assert await repository.get(ALICE, drop.id) is None
    assert await repository.delete(ALICE, drop.id) is False
    assert await repository.delete(ALICE, "not-a-uuid") is False
    assert list((await repository.list(ALICE)).items) == [keep]


async def test_delete_all_removes_every_workout_and_returns_their_ids(
    repository: WorkoutRepository,
) -> None:
    created = [await repository.create(ALICE, on(f"2026-11-{day:02d}")) for day in range(10, 15)]

    removed = await repository.delete_all(ALICE)

    assert sorted(removed) == sorted(w.id for w in created)
    assert (await repository.list(ALICE)).items == ()
    assert await repository.delete_all(ALICE) == []


# --- isolation ----------------------------------------------------------------------------------


async def test_users_never_reach_each_others_workouts(repository: WorkoutRepository) -> None:
    alices = [await repository.create(ALICE, on(f"2026-11-{day:02d}")) for day in range(10, 15)]
    bobs = await repository.create(BOB, on("2026-11-12", "Bob's session"))
    year = (date(2026, 1, 1), date(2026, 12, 31))

    for workout in alices:
        assert await repository.get(BOB, workout.id) is None
        assert await repository.delete(BOB, workout.id) is False
    assert await repository.get(ALICE, bobs.id) is None
    assert list((await repository.list(BOB, limit=100)).items) == [bobs]
    assert await repository.in_range(BOB, *year) == [bobs]
    # Bob's cursor over Alice's rows still lists only Bob's.
    alice_cursor = encode_cursor(SortKey.of(alices[-1]))
    assert list((await repository.list(BOB, cursor=alice_cursor)).items) == [bobs]

    assert await repository.delete_all(BOB) == [bobs.id]
    alice_year = await repository.list(ALICE, limit=100, date_from=year[0], date_to=year[1])
    assert list(alice_year.items) == newest_first(alices)
    assert await repository.get(ALICE, alices[0].id) == alices[0]


# --- migrations, reachability -------------------------------------------------------------------


async def test_migrations_apply_once_however_often_the_database_is_opened(
    backend: Backend,
) -> None:
    first = await backend.open()
    kept = await first.create(ALICE, on("2026-11-18"))
    # Two more processes starting at the same moment must not apply anything twice.
    second, third = await asyncio.gather(backend.open(), backend.open())

    assert backend.schema_versions() == [m.version for m in MIGRATIONS]
    assert await second.get(ALICE, kept.id) == kept
    assert await third.get(ALICE, kept.id) == kept


async def test_an_unreachable_database_raises_backend_unavailable(backend: Backend) -> None:
    with pytest.raises(DatabaseUnavailable) as raised:
        await backend.open_unreachable()
    assert isinstance(raised.value, BackendUnavailable)
    assert raised.value.retry_after > 0


async def test_a_closed_repository_is_unavailable_and_pings_false(backend: Backend) -> None:
    repository = await backend.open()
    assert await repository.ping() is True
    await repository.close()
    await repository.close()  # closing twice is harmless

    assert await repository.ping() is False
    with pytest.raises(BackendUnavailable):
        await repository.list(ALICE)
    with pytest.raises(BackendUnavailable):
        await repository.create(ALICE, on("2026-11-18"))
