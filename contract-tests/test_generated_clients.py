"""Clients generated from the spec's 3.1 copy hold a real conversation with the running service.

Generated into `contract-tests/.generated/` (git-ignored) on every run, never committed:
a Python client by openapi-python-client and TypeScript types by openapi-typescript. A small
program with each (`clients/python/three_turns.py`, `clients/typescript/src/threeTurns.ts`) talks
three turns (the third dropped mid-stream and resumed with Idempotency-Key + Last-Event-ID),
parses every event into the generated types, and logs and deletes a workout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from spotter_contract.target import CREDENTIALS, ContractTarget

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GENERATED = HERE / ".generated"
TYPESCRIPT = HERE / "clients" / "typescript"
PYTHON_CLIENT = HERE / "clients" / "python"
#: Pinned generator and the generated package's runtime dependencies (a throwaway uv environment).
OPENAPI_PYTHON_CLIENT = "openapi-python-client@0.29.1"
PYTHON_CLIENT_DEPENDENCIES = ("httpx==0.28.1", "attrs==26.1.0")
TIMEOUT = 300


def _run(command: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert run.returncode == 0, f"{' '.join(command)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} is needed to generate the clients (uv and Node.js are project tools)"
    return found


@pytest.fixture(scope="module")
def derived_spec() -> Path:
    """The 3.1 copy, written by the project's own converter (generators refuse 3.2)."""
    out = GENERATED / "spec"
    _run([sys.executable, "-m", "spotter.spec", "--out", str(out)])
    return out / "openapi-3.1.yaml"


@pytest.fixture(scope="module")
def python_client(derived_spec: Path) -> Path:
    target = GENERATED / "python"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _run([_tool("uvx"), OPENAPI_PYTHON_CLIENT, "generate", "--path", str(derived_spec),
          "--output-path", str(target / "spotter_api_client"), "--meta", "none"])
    return target


@pytest.fixture(scope="module")
def typescript_types(derived_spec: Path) -> Path:
    npm = _tool("npm")
    if not (TYPESCRIPT / "node_modules").is_dir():
        _run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TYPESCRIPT)
    _run([npm, "run", "--silent", "generate"], cwd=TYPESCRIPT)
    _run([npm, "run", "--silent", "typecheck"], cwd=TYPESCRIPT)  # the program compiles against the types
    return GENERATED / "typescript" / "openapi.ts"


def _summary(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    last = run.stdout.strip().splitlines()[-1]
    parsed: dict[str, object] = json.loads(last)
    return parsed


def test_python_client_talks_three_turns_and_logs_a_workout(python_client: Path,
                                                             contract_target: ContractTarget) -> None:
    command = [_tool("uv"), "run", "--no-project", "--quiet", "--python", f"{sys.version_info.major}."
               f"{sys.version_info.minor}"]
    for dependency in PYTHON_CLIENT_DEPENDENCIES:
        command += ["--with", dependency]
    command += ["python", str(PYTHON_CLIENT / "three_turns.py"), "--client-dir", str(python_client),
                "--base-url", contract_target.base_url, "--token", CREDENTIALS.bearer_token()]
    summary = _summary(_run(command))
    assert summary["turn"] == 3
    events = summary["events"]
    assert isinstance(events, dict)
    assert events["DonePayload"] == 3 and events["RetrievalStartPayload"] == 3 and events["ResponsePayload"] >= 3


def test_typescript_types_talk_three_turns_and_log_a_workout(typescript_types: Path,
                                                              contract_target: ContractTarget) -> None:
    assert typescript_types.is_file()
    run = _run([_tool("npx"), "--no-install", "tsx", "src/threeTurns.ts", "--base-url", contract_target.base_url,
                "--token", CREDENTIALS.bearer_token()], cwd=TYPESCRIPT)
    summary = _summary(run)
    assert summary["turn"] == 3
    events = summary["events"]
    assert isinstance(events, dict)
    assert events["done"] == 3 and events["retrieval_start"] == 3 and events["response"] >= 3
