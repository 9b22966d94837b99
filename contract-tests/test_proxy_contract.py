"""The web app's proxy serves the same contract under `/api`: the suite runs against `next start`.

Starts the production build of `frontend/` against the contract service, signs in the seeded
development account through Auth.js (as a person would), creates a personal API token at
`/api/v1/tokens`, and runs the full schemathesis suite (the same phases and examples as against the
service) against `http://127.0.0.1:PORT/api` with that token, as the release pipeline would.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from spotter_contract.tally import TALLY
from spotter_contract.target import BASE_URL_VARIABLE, TOKEN_VARIABLE, ContractTarget

from tests.support.service_process import TEST_SECRET, free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FRONTEND = REPO / "frontend"
DEMO_EMAIL, DEMO_PASSWORD = "demo@spotter.local", "spotter-demo"
STARTUP_SECONDS = 90.0

pytestmark = [
    pytest.mark.skipif(bool(os.environ.get(BASE_URL_VARIABLE)), reason="starts a local web app; not for a deployment"),
    pytest.mark.skipif(
        not (FRONTEND / ".next" / "BUILD_ID").is_file() or not (FRONTEND / "node_modules").is_dir(),
        reason="the web app has no production build: run `cd frontend && npm install && npm run build`",
    ),
]


def _web_env(service_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "NODE_ENV": "production",
        "NEXT_TELEMETRY_DISABLED": "1",
        "SPOTTER_ENV": "production",
        "SPOTTER_API_URL": service_url,
        "SPOTTER_AUTH_SECRET": TEST_SECRET,
        "AUTH_SECRET": secrets.token_urlsafe(48),
        "AUTH_TRUST_HOST": "true",
        "SPOTTER_WEB_DATA_DIR": str(data_dir),
    }


@pytest.fixture(scope="module")
def web_app(contract_target: ContractTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("web-app")
    env = _web_env(contract_target.base_url, data_dir)
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed to seed the web app's account"
    subprocess.run([npm, "run", "--silent", "seed"], cwd=FRONTEND, env={**env, "SPOTTER_ENV": "development"},
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    log = (data_dir / "next.log").open("wb")
    process = subprocess.Popen(
        ["node", "node_modules/next/dist/bin/next", "start", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=FRONTEND, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, (data_dir / "next.log").read_text()[-3000:]
            try:
                httpx.get(f"{url}/api/auth/csrf", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"next start did not answer:\n{(data_dir / 'next.log').read_text()[-3000:]}")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


@pytest.fixture(scope="module")
def api_token(web_app: str) -> str:
    """Sign in with Auth.js credentials, then create a personal API token, as a user would."""
    with httpx.Client(base_url=web_app, timeout=30) as browser:
        csrf = browser.get("/api/auth/csrf").json()["csrfToken"]
        signed_in = browser.post("/api/auth/callback/credentials", data={
            "email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrfToken": csrf, "callbackUrl": web_app + "/",
        })
        assert signed_in.status_code in {200, 302}, signed_in.text[:500]
        assert any(name.endswith("authjs.session-token") for name in browser.cookies), "sign-in set no session"
        created = browser.post("/api/v1/tokens", json={"name": "contract tests"})
        assert created.status_code == 201, created.text
        token: str = created.json()["token"]
    assert token.startswith("spt_")
    return token


def test_the_proxy_honours_the_contract(web_app: str, api_token: str) -> None:
    env = {**os.environ, BASE_URL_VARIABLE: f"{web_app}/api", TOKEN_VARIABLE: api_token}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "contract-tests/test_service_contract.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=400, check=False,
    )
    assert run.returncode == 0, run.stdout[-8000:]
    checked = [line for line in run.stdout.splitlines() if line.startswith("responses checked:")]
    assert "POST /v1/chat" in run.stdout and checked, run.stdout[-3000:]
    TALLY.notes.append(f"through the web app's proxy (/api): {checked[-1]}")
