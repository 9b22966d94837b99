"""Real services on loopback ports for the integration tests: one shared pre-built index, the
Anthropic-speaking loopback LLM, and session-scoped Spotter processes (offline and LLM-backed)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.anthropic_server import AnthropicServer, spotter_env
from tests.support.service_process import ServiceFactory, ServiceProcess


@pytest.fixture(scope="session")
def llm_server() -> Iterator[AnthropicServer]:
    with AnthropicServer(api_key="test-key") as server:
        yield server


@pytest.fixture
def anthropic(llm_server: AnthropicServer) -> AnthropicServer:
    """The loopback LLM, with behaviours and recordings cleared for this test."""
    llm_server.reset()
    return llm_server


@pytest.fixture(scope="session")
def llm_service(
    built_index: Path, llm_server: AnthropicServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """The service answering with the loopback Anthropic server (so tests see what the LLM saw)."""
    with ServiceProcess(tmp_path_factory.mktemp("llm-service"), spotter_env(llm_server),
                        seed_index=built_index) as service:
        yield service


@pytest.fixture(scope="session")
def offline_service(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The service with the offline responder, as `make run` starts it."""
    with ServiceProcess(tmp_path_factory.mktemp("offline-service"), seed_index=built_index) as service:
        yield service


@pytest.fixture
def make_service(
    built_index: Path, llm_server: AnthropicServer, tmp_path: Path
) -> Iterator[ServiceFactory]:
    """Start a dedicated service with extra settings: make_service(anthropic=True, SPOTTER_X=...)."""
    started: list[ServiceProcess] = []
    numbers = itertools.count()  # atomic: tests may start several services from threads at once

    def factory(*, anthropic: bool = True, data_dir: Path | None = None, **env: str) -> ServiceProcess:
        settings = {**(spotter_env(llm_server) if anthropic else {}), **env}
        directory = data_dir or tmp_path / f"service-{next(numbers)}"
        service = ServiceProcess(directory, settings, seed_index=built_index)
        started.append(service)  # stopped at the end even when its start-up fails
        return service.start()

    yield factory
    for service in started:
        service.stop()
