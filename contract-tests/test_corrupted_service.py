"""Breaking the service on purpose must make the contract suite fail.

The real app runs behind a test-side corrupting middleware (`spotter_contract.corrupted_service`)
in a subprocess on a loopback port. The suite's chat cases (its schema, hooks, every built-in
check and Spotter's check) run against it once per corruption, chosen by the run's user id, and
each run must find the rule its corruption breaks. An uncorrupted control run finds nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from spotter_contract.case_hooks import install_case_hooks
from spotter_contract.contract_schema import load_contract_schema
from spotter_contract.corrupted_service import CORRUPTIONS, USER_PREFIX
from spotter_contract.known_bugs import checks_excluded_for
from spotter_contract.tally import TALLY
from spotter_contract.target import BASE_URL_VARIABLE

from spotter.identity import mint_service_token
from tests.support.service_process import TEST_SECRET, free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLES = 12
_schema = load_contract_schema("service", only={"chat"})
install_case_hooks(_schema)
CHAT = _schema["/v1/chat"]["POST"]
STARTUP_SECONDS = 120.0

pytestmark = pytest.mark.skipif(
    bool(os.environ.get(BASE_URL_VARIABLE)), reason="runs a local corrupted service; not against a deployment"
)


@pytest.fixture(scope="module")
def corrupted_url(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("corrupted-service")
    shutil.copytree(built_index, data_dir, dirs_exist_ok=True)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SPOTTER_", "ANTHROPIC_", "PINECONE_"))},
        "SPOTTER_ENV": "production",
        "SPOTTER_AUTH_SECRET": TEST_SECRET,
        "SPOTTER_DATA_DIR": str(data_dir),
        "SPOTTER_RATE_LIMIT_PER_MINUTE": "100000",
        "SPOTTER_MAX_STREAMS_PER_USER": "1000",
        "SPOTTER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(REPO / "service"), str(HERE)]),
    }
    log = (data_dir / "corrupted.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "spotter_contract.corrupted_service", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, (data_dir / "corrupted.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"the corrupted service did not start:\n{(data_dir / 'corrupted.log').read_text()}")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _fuzz_chat(url: str, corruption: str) -> list[str]:
    """Run the suite's chat cases (its schema, hooks and every check) as that corruption's user."""
    token = mint_service_token(TEST_SECRET, USER_PREFIX + corruption, 300)
    failures: list[str] = []

    @hypothesis.given(case=CHAT.as_strategy(GenerationMode.POSITIVE) | CHAT.as_strategy(GenerationMode.NEGATIVE))
    @hypothesis.settings(max_examples=EXAMPLES, phases=[hypothesis.Phase.generate], deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def fuzz(case: schemathesis.Case[Any]) -> None:
        if case.headers is None:
            case.headers = CaseInsensitiveDict()
        case.headers["Authorization"] = f"Bearer {token}"
        try:
            case.call_and_validate(base_url=url, excluded_checks=checks_excluded_for(case.operation.label))
        except (FailureGroup, AssertionError) as error:
            failures.append(str(error))

    fuzz()
    return failures


@pytest.fixture(scope="module")
def runs(corrupted_url: str) -> dict[str, list[str]]:
    """corruption -> the failures the suite's chat cases found (kept out of the run's tally)."""
    with TALLY.paused():
        return {corruption: _fuzz_chat(corrupted_url, corruption) for corruption in CORRUPTIONS}


def test_the_uncorrupted_control_run_passes(runs: dict[str, list[str]]) -> None:
    assert runs["none"] == []


@pytest.mark.parametrize(("corruption", "expected"), [
    ("rename-field", "breaks the spec's ChatStreamEvent"),
    ("drop-done", "no terminal event"),
    ("plain-text-400", "not application/problem+json"),
])
def test_the_suite_fails_against_a_corrupted_service(runs: dict[str, list[str]], corruption: str,
                                                     expected: str) -> None:
    assert runs[corruption], f"no case failed against `{corruption}`"
    assert any(expected in failure for failure in runs[corruption]), "\n\n".join(runs[corruption])[-6000:]
