"""pytest fixtures for tests that need Redis: one real server per session, one per test to break.

Import them into a conftest (`from tests.support.redis_fixtures import redis_server`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import RedisServer, start_redis_server

__all__ = ["disposable_redis_server", "redis_server"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server shared by the session; tests keep apart by key prefix or database number."""
    server = start_redis_server()
    yield server
    server.stop()


@pytest.fixture
def disposable_redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, which the test may stop and restart on the same port."""
    server = start_redis_server()
    yield server
    server.stop()
