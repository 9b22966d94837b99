"""infra/compose.yaml validates against the committed Compose subset schema after
interpolation, wires the service, the web app and the optional `redis` profile the way the
images expect, and takes every secret from the environment (none is written in a file)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from compose_interpolation import MissingVariableError, interpolate_tree, read_env_file
from dockerfile_syntax import parse_dockerfile
from repo_layout import (
    COMPOSE_FILE,
    FRONTEND_DOCKERFILE,
    INFRA_DIR,
    REDIS_ENV_FILE,
    REPO_ROOT,
    SCHEMA_DIR,
    SERVICE_DOCKERFILE,
)

Compose = dict[str, Any]

SCHEMA = json.loads((SCHEMA_DIR / "compose-subset.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
RAW: Compose = yaml.safe_load(COMPOSE_FILE.read_text())
SECRETS = {"SPOTTER_AUTH_SECRET": "s" * 40, "AUTH_SECRET": "a" * 40}
SECRET_NAMES = re.compile(r"SECRET|API_KEY|PASSWORD|TOKEN")


def _resolved(extra: dict[str, str] | None = None) -> Compose:
    resolved = interpolate_tree(RAW, {**SECRETS, **(extra or {})})
    assert isinstance(resolved, dict)
    return resolved


def _active_services(compose: Compose, profiles: set[str]) -> set[str]:
    return {
        name
        for name, service in compose["services"].items()
        if not service.get("profiles") or profiles & set(service["profiles"])
    }


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_compose_validates_against_the_schema() -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(_resolved())]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        (["services", "service"], "environment", "enviroment"),
        (["services", "redis"], "profiles", "profile"),
        (["services", "frontend", "depends_on", "service"], "condition", "conditon"),
        (["services", "redis", "healthcheck"], "interval", "intervall"),
        (["services", "service", "build"], "dockerfile", "docker_file"),
        ([], "volumes", "volume"),
    ],
)
def test_schema_rejects_a_misspelt_key(path: list[str], old: str, new: str) -> None:
    broken = copy.deepcopy(_resolved())
    node: Any = broken
    for key in path:
        node = node[key]
    node[new] = node.pop(old)
    assert list(VALIDATOR.iter_errors(broken)), f"{'.'.join([*path, new])} was accepted"


def test_default_profile_runs_the_service_and_the_web_app_with_embedded_memory() -> None:
    compose = _resolved()
    assert _active_services(compose, set()) == {"service", "frontend"}
    assert compose["services"]["service"]["environment"]["SPOTTER_MEMORY_URL"] == "memory://"


def test_redis_env_file_adds_redis_and_switches_memory_to_it() -> None:
    redis_env = read_env_file(REDIS_ENV_FILE)
    profiles = set(redis_env["COMPOSE_PROFILES"].split(","))
    compose = _resolved(redis_env)
    assert _active_services(compose, profiles) == {"service", "frontend", "redis"}
    assert RAW["services"]["redis"]["profiles"] == ["redis"]
    assert compose["services"]["service"]["environment"]["SPOTTER_MEMORY_URL"] == "redis://redis:6379/0"
    assert not any(SECRET_NAMES.search(name) for name in redis_env)


def test_no_secret_is_written_in_the_file() -> None:
    for name, service in RAW["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(variable):
                assert isinstance(value, str) and value.startswith("${" + variable), (
                    f"{name}.{variable} must come from the environment as ${{{variable}...}}"
                )


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_a_missing_required_secret_stops_compose_with_its_name(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(MissingVariableError, match=missing):
        interpolate_tree(RAW, env)


def test_builds_use_the_repository_root_and_the_infra_dockerfiles() -> None:
    for name in ("service", "frontend"):
        build = RAW["services"][name]["build"]
        context = (INFRA_DIR / build["context"]).resolve()
        assert context == REPO_ROOT
        assert (context / build["dockerfile"]).is_file(), build["dockerfile"]


def test_service_data_volume_is_the_image_data_dir() -> None:
    runtime_env = parse_dockerfile(SERVICE_DOCKERFILE)[-1].environment()
    service = RAW["services"]["service"]
    mounts = dict(volume.split(":", 1) for volume in service["volumes"])
    assert mounts["spotter-data"] == runtime_env["SPOTTER_DATA_DIR"]
    assert "spotter-data" in RAW["volumes"]


def test_web_app_accounts_volume_is_the_image_data_dir() -> None:
    runtime_env = parse_dockerfile(FRONTEND_DOCKERFILE)[-1].environment()
    frontend = RAW["services"]["frontend"]
    mounts = dict(volume.split(":", 1) for volume in frontend["volumes"])
    assert mounts["spotter-web-data"] == runtime_env["SPOTTER_WEB_DATA_DIR"]
    assert "spotter-web-data" in RAW["volumes"]


def test_ports_and_urls_agree_with_the_images() -> None:
    image_port = parse_dockerfile(SERVICE_DOCKERFILE)[-1].environment()["PORT"]
    service = RAW["services"]["service"]
    assert service["environment"]["PORT"] == image_port
    assert all(port.endswith(":" + image_port) for port in service["ports"])
    frontend = RAW["services"]["frontend"]
    assert frontend["environment"]["SPOTTER_API_URL"] == f"http://service:{image_port}"
    assert frontend["depends_on"]["service"]["condition"] == "service_healthy"


def test_stop_grace_outlasts_the_drain() -> None:
    service = RAW["services"]["service"]
    drain = float(service["environment"]["SPOTTER_DRAIN_SECONDS"])
    assert _seconds(service["stop_grace_period"]) > drain


def test_published_ports_bind_loopback_only() -> None:
    for name in ("service", "frontend"):
        for port in RAW["services"][name]["ports"]:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


def test_redis_image_is_pinned() -> None:
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+(-[a-z]+)?", RAW["services"]["redis"]["image"])
