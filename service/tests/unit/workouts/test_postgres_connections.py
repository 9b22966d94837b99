"""The small connection pool: bounded, and it never hands out a connection in an unknown state."""

from __future__ import annotations

import asyncio

import pytest

from spotter.errors import BackendUnavailable
from spotter.workouts.postgres_connections import Connection, PostgresConnections


async def backend_pid(db: Connection) -> int:
    cursor = await db.execute("SELECT pg_backend_pid()")
    row = await cursor.fetchone()
    assert row is not None
    pid: int = row[0]
    return pid


async def test_never_more_connections_than_its_size(postgres_url: str) -> None:
    pool = PostgresConnections(postgres_url, size=2)

    async def sleepy_pid() -> int:
        async with pool.connection() as db:
            await db.execute("SELECT pg_sleep(0.02)")
            return await backend_pid(db)

    try:
        pids = await asyncio.gather(*(sleepy_pid() for _ in range(12)))
        assert len(set(pids)) == 2
    finally:
        await pool.close()


async def test_a_connection_left_in_a_transaction_is_not_reused(postgres_url: str) -> None:
    pool = PostgresConnections(postgres_url, size=1)
    try:
        async with pool.connection() as db:
            first = await backend_pid(db)
            await db.execute("BEGIN")
        async with pool.connection() as db:
            assert await backend_pid(db) != first
            again = await backend_pid(db)
        async with pool.connection() as db:
            assert await backend_pid(db) == again  # a clean connection is reused
    finally:
        await pool.close()


async def test_a_cancelled_query_does_not_poison_the_pool(postgres_url: str) -> None:
    pool = PostgresConnections(postgres_url, size=1)

    async def long_query() -> None:
        async with pool.connection() as db:
            await db.execute("SELECT pg_sleep(30)")

    try:
        task = asyncio.create_task(long_query())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(5), pool.connection() as db:
            assert await backend_pid(db) > 0
    finally:
        await pool.close()


async def test_a_closed_pool_is_unavailable(postgres_url: str) -> None:
    pool = PostgresConnections(postgres_url, size=1)
    await pool.close()
    with pytest.raises(BackendUnavailable):
        async with pool.connection():
            pass
