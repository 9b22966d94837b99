"""Fixtures for the contract tests: the target (a started service or a deployment) and the run summary.

`service/` is importable through pyproject's `pythonpath`, so the service suite's session fixture
`built_index` (the slow knowledge index, built once into a cache) is reused here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from spotter_contract import response_checks  # noqa: F401 - registers the custom check
from spotter_contract.tally import TALLY
from spotter_contract.target import ContractTarget

from tests.conftest import built_index
from tests.support.service_process import ServiceProcess

__all__ = ["built_index", "contract_target"]

#: Limits off for the run: per-case users already keep cases apart, and fuzzing is not a load test.
SERVICE_ENV = {
    "SPOTTER_RATE_LIMIT_PER_MINUTE": "100000",
    "SPOTTER_MAX_STREAMS_PER_USER": "1000",
}


@pytest.fixture(scope="session")
def contract_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ContractTarget]:
    """The deployment named by SPOTTER_CONTRACT_BASE_URL, else the real service on a loopback port."""
    deployment = ContractTarget.from_environment()
    if deployment is not None:
        yield deployment
        return
    index: Path = request.getfixturevalue("built_index")
    service = ServiceProcess(tmp_path_factory.mktemp("contract-service"), SERVICE_ENV, seed_index=index)
    with service:
        yield ContractTarget(base_url=service.url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.cases or TALLY.notes:
        terminalreporter.section("Spotter contract coverage")
        for line in TALLY.render():
            terminalreporter.write_line(line)
