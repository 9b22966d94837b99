"""A small pool of async PostgreSQL connections that drops broken ones.

psycopg_pool is not a dependency, and the workout log needs little: a bounded number of
autocommit connections made on demand, reused while healthy, and replaced when the server closed
them (restart, idle timeout) or a query was interrupted mid-flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from spotter.errors import ConfigurationError, DatabaseUnavailable

__all__ = ["Connection", "PostgresConnections", "describe_database"]

Connection = psycopg.AsyncConnection[tuple[Any, ...]]


def describe_database(url: str) -> str:
    """`host:port/dbname` of a connection URL, for messages (never the password).

    Raises ConfigurationError if `url` is not a libpq connection string or URL.
    """
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(f"SPOTTER_DATABASE_URL is not a PostgreSQL URL: {exc}") from None
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


class PostgresConnections:
    """At most `size` connections to `url`, handed out one task at a time."""

    def __init__(self, url: str, *, size: int = 4, connect_timeout: float = 5.0) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._where = describe_database(url)
        self._url = url
        given = conninfo_to_dict(url)
        # The URL wins where it sets these; the defaults keep a dead host from hanging start-up.
        self._options: dict[str, Any] = {
            key: value
            for key, value in {
                "connect_timeout": max(1, round(connect_timeout)),
                "application_name": "spotter",
            }.items()
            if key not in given
        }
        self._slots = asyncio.Semaphore(size)
        self._idle: list[Connection] = []
        self._closed = False

    @property
    def where(self) -> str:
        """`host:port/dbname`, for messages."""
        return self._where

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection in autocommit mode; DatabaseUnavailable if none can be made.

        It goes back to the pool only if the block ended normally and left it idle; after an
        error or cancellation it is closed, since its state is unknown.
        """
        if self._closed:
            raise DatabaseUnavailable("the workout database connections are closed")
        async with self._slots:
            if self._closed:  # closed while this task waited for a slot
                raise DatabaseUnavailable("the workout database connections are closed")
            connection = await self._take()
            reusable = False
            try:
                yield connection
                reusable = True
            finally:
                if reusable and not self._closed and _is_idle(connection):
                    self._idle.append(connection)
                else:
                    await connection.close()

    async def close(self) -> None:
        """Close idle connections now and busy ones when they are released."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def _take(self) -> Connection:
        while self._idle:
            connection = self._idle.pop()
            if _is_idle(connection):
                return connection
            await connection.close()
        try:
            return await psycopg.AsyncConnection.connect(self._url, autocommit=True, **self._options)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"PostgreSQL at {self._where} is unreachable: {exc}") from exc


def _is_idle(connection: Connection) -> bool:
    return (
        not connection.closed and not connection.broken and connection.info.transaction_status == TransactionStatus.IDLE
    )
