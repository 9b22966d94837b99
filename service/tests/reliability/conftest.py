"""Fixtures and hooks of the reliability suite: the scale knob, the run's figures, shared services.

`SPOTTER_SOAK=1` (what `make soak` sets) multiplies every count by `SCALE` (10). Services are
started through the shared harness (`ServiceProcess`, the pre-built index, the loopback LLM);
each is asked for its count of 500 responses before it stops, and that count goes into the run's
figures, which `pytest_sessionfinish` writes to `build/reliability.json`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import anthropic, llm_server, make_service
from tests.reliability.figures import RESULTS_PATH, RunFigures
from tests.support.anthropic_server import AnthropicServer, LoopbackLLM, spotter_env
from tests.support.redis_fixtures import disposable_redis_server, redis_server
from tests.support.redis_server import RedisServer
from tests.support.service_process import ServiceProcess

__all__ = [
    "SCALE",
    "SOAK",
    "anthropic",
    "disposable_redis_server",
    "llm_env",
    "llm_server",
    "make_service",
    "redis_server",
    "responses_with_status",
    "running_service",
    "scaled",
]

SOAK = os.environ.get("SPOTTER_SOAK") == "1"
SCALE = 10 if SOAK else 1
#: A silent LLM stream fails after this long; short, so hang tests stay quick.
LLM_TIMEOUT_SECONDS = "2"

_FIGURES = RunFigures()
_OUTCOMES: dict[str, int] = {}
_STARTED = time.time()


def scaled(count: int) -> int:
    """`count` in `make test`, ten times that in `make soak`."""
    return count * SCALE


def llm_env(server: LoopbackLLM, **extra: str) -> dict[str, str]:
    """Settings for a service answering through the loopback LLM, with a short LLM timeout."""
    return {**spotter_env(server), "SPOTTER_LLM_TIMEOUT_SECONDS": LLM_TIMEOUT_SECONDS, **extra}


def responses_with_status(service: ServiceProcess, status: str) -> int:
    """How many responses with this status the service sent, from its own /metrics."""
    total = 0
    for line in httpx.get(f"{service.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(f'spotter_http_responses_total{{status="{status}"}} '):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def _count_500s(service: ServiceProcess) -> None:
    if service.process is not None and service.process.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            _FIGURES.add("responses_500", responses_with_status(service, "500"))


@contextmanager
def running_service(
    data_dir: Path, env: dict[str, str], seed_index: Path
) -> Iterator[ServiceProcess]:
    """A started service whose 500 responses are counted into the figures before it stops."""
    with ServiceProcess(data_dir, env, seed_index=seed_index) as service:
        try:
            yield service
        finally:
            _count_500s(service)


@pytest.fixture(scope="session")
def figures() -> RunFigures:
    """The run's counters (see `tests.reliability.figures.FIGURES`)."""
    return _FIGURES


@pytest.fixture(scope="session")
def reliability_service(
    built_index: Path, llm_server: AnthropicServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """In-process memory, the loopback LLM with a 2 s timeout, INFO logs (the log test reads them)."""
    env = llm_env(llm_server, SPOTTER_LOG_LEVEL="INFO")
    with running_service(tmp_path_factory.mktemp("reliability"), env, built_index) as service:
        yield service


@pytest.fixture(scope="session")
def redis_reliability_service(
    built_index: Path,
    llm_server: AnthropicServer,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """The same, with conversation memory in the session's real redis-server (database 3)."""
    env = llm_env(llm_server, SPOTTER_MEMORY_URL=redis_server.url(3))
    with running_service(tmp_path_factory.mktemp("reliability-redis"), env, built_index) as service:
        yield service


@pytest.fixture(params=["in_process", "redis"])
def backend_service(request: pytest.FixtureRequest) -> ServiceProcess:
    """Each memory backend's service in turn (for tests that must hold on both)."""
    name = "reliability_service" if request.param == "in_process" else "redis_reliability_service"
    service: ServiceProcess = request.getfixturevalue(name)
    return service


@pytest.fixture
def counted_service(make_service: Any) -> Iterator[Any]:
    """`make_service`, with each started service's 500 responses counted into the figures."""
    started: list[ServiceProcess] = []

    def factory(**kwargs: Any) -> ServiceProcess:
        service: ServiceProcess = make_service(**kwargs)
        started.append(service)
        return service

    yield factory
    for service in started:
        _count_500s(service)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "reliability/" not in report.nodeid.replace("\\", "/"):
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        _OUTCOMES[outcome] = _OUTCOMES.get(outcome, 0) + 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _OUTCOMES:
        return  # no reliability test ran: keep the last run's figures
    _FIGURES.write(
        RESULTS_PATH,
        soak=SOAK,
        scale=SCALE,
        outcomes=dict(sorted(_OUTCOMES.items())),
        exit_status=int(exitstatus),
        seconds=round(time.time() - _STARTED, 1),
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
