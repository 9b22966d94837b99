"""The Cloud Run manifests validate against the committed Knative Service schema once their
`${...}` placeholders are filled, the schema rejects misspelt or misplaced keys, and the
manifests keep the deployment's promises (one instance without Redis, SSE-sized timeouts,
secrets only from Secret Manager, probes on /readyz and /healthz)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from compose_interpolation import interpolate_tree, placeholders
from dockerfile_syntax import parse_dockerfile
from repo_layout import CLOUDRUN_DIR, DEPLOY_DOC, SCHEMA_DIR, SERVICE_DOCKERFILE

Manifest = dict[str, Any]

SCHEMA = json.loads((SCHEMA_DIR / "knative-service.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
MANIFESTS = sorted(CLOUDRUN_DIR.glob("*.yaml"))
SERVICE_MANIFESTS = [CLOUDRUN_DIR / "service.single.yaml", CLOUDRUN_DIR / "service.scaled.yaml"]
SAMPLE_VALUES = {
    "PROJECT_ID": "spotter-prod",
    "REGION": "europe-west1",
    "IMAGE_TAG": "0.1.0",
    "CLOUDSQL_CONNECTION_NAME": "spotter-prod:europe-west1:spotter-db",
    "PINECONE_HOST": "https://spotter-knowledge-abc123.svc.aped-1234.pinecone.io",
    "VPC_CONNECTOR": "projects/spotter-prod/locations/europe-west1/connectors/spotter-vpc",
    "SPOTTER_API_URL": "https://spotter-service-abc123-ew.a.run.app",
}
SECRET_NAMES = re.compile(r"SECRET|API_KEY|PASSWORD|TOKEN|DATABASE_URL")


def _load(path: Path) -> Manifest:
    filled = interpolate_tree(yaml.safe_load(path.read_text()), SAMPLE_VALUES)
    assert isinstance(filled, dict)
    return filled


def _errors(manifest: Manifest) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(manifest)
    ]


def _container(manifest: Manifest) -> dict[str, Any]:
    containers: list[dict[str, Any]] = manifest["spec"]["template"]["spec"]["containers"]
    return containers[0]


def _annotations(manifest: Manifest) -> dict[str, str]:
    annotations: dict[str, str] = manifest["spec"]["template"]["metadata"]["annotations"]
    return annotations


def _env(manifest: Manifest) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in _container(manifest).get("env", [])}


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_three_manifests_exist() -> None:
    assert {p.name for p in MANIFESTS} == {"service.single.yaml", "service.scaled.yaml", "frontend.yaml"}


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_validates_against_the_schema(path: Path) -> None:
    assert _errors(_load(path)) == []


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_placeholders_are_the_documented_ones(path: Path) -> None:
    names = placeholders(path.read_text())
    assert names <= SAMPLE_VALUES.keys(), f"undocumented placeholders: {names - SAMPLE_VALUES.keys()}"
    doc = DEPLOY_DOC.read_text()
    for name in names:
        assert f"`{name}`" in doc, f"docs/deploy.md does not explain {name}"


def _set(path: Sequence[str | int], value: object) -> Callable[[Manifest], None]:
    def mutate(manifest: Manifest) -> None:
        node: Any = manifest
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _rename(path: Sequence[str | int], old: str, new: str) -> Callable[[Manifest], None]:
    def mutate(manifest: Manifest) -> None:
        node: Any = manifest
        for key in path:
            node = node[key]
        node[new] = node.pop(old)

    return mutate


TEMPLATE: list[str | int] = ["spec", "template"]
CONTAINER: list[str | int] = [*TEMPLATE, "spec", "containers", 0]
BROKEN = {
    "misspelt containerConcurrency": _rename([*TEMPLATE, "spec"], "containerConcurrency", "containerConcurency"),
    "misspelt timeoutSeconds": _rename([*TEMPLATE, "spec"], "timeoutSeconds", "timeoutSecond"),
    "misspelt env": _rename(CONTAINER, "env", "envs"),
    "misspelt startupProbe": _rename(CONTAINER, "startupProbe", "startUpProbe"),
    "misspelt httpGet path": _rename([*CONTAINER, "livenessProbe", "httpGet"], "path", "pth"),
    "misspelt secretKeyRef": _rename([*CONTAINER, "env", -1, "valueFrom"], "secretKeyRef", "secretKeyref"),
    "misspelt metadata key": _rename(["metadata"], "labels", "label"),
    "misspelt template key": _rename(TEMPLATE, "metadata", "meta"),
    "misspelt annotation": _rename(
        [*TEMPLATE, "metadata", "annotations"], "autoscaling.knative.dev/maxScale", "autoscaling.knative.dev/maxscale"
    ),
    "revision annotation on the service": _set(["metadata", "annotations", "autoscaling.knative.dev/maxScale"], "1"),
    "unknown top-level key": _set(["status"], {}),
    "timeout past Cloud Run's maximum": _set([*TEMPLATE, "spec", "timeoutSeconds"], 3601),
    "concurrency past Cloud Run's maximum": _set([*TEMPLATE, "spec", "containerConcurrency"], 1001),
    "reserved PORT variable": _set([*CONTAINER, "env", 0], {"name": "PORT", "value": "8080"}),
    "value and valueFrom together": _set([*CONTAINER, "env", -1, "value"], "literal"),
    "secret version not a number": _set([*CONTAINER, "env", -1, "valueFrom", "secretKeyRef", "key"], "newest"),
    "non-string annotation": _set([*TEMPLATE, "metadata", "annotations", "autoscaling.knative.dev/maxScale"], 1),
    "two probe handlers": _set([*CONTAINER, "livenessProbe", "tcpSocket"], {"port": 8080}),
    "wrong apiVersion": _set(["apiVersion"], "serving.knative.dev/v1beta1"),
}


@pytest.mark.parametrize("mutate", BROKEN.values(), ids=BROKEN.keys())
def test_schema_rejects_a_broken_manifest(mutate: Callable[[Manifest], None]) -> None:
    manifest = copy.deepcopy(_load(CLOUDRUN_DIR / "service.single.yaml"))
    mutate(manifest)
    assert _errors(manifest), "the schema accepted a broken manifest"


def test_single_instance_keeps_memory_in_process() -> None:
    manifest = _load(CLOUDRUN_DIR / "service.single.yaml")
    assert _annotations(manifest)["autoscaling.knative.dev/maxScale"] == "1"
    assert _env(manifest)["SPOTTER_MEMORY_URL"]["value"] == "memory://"


def test_scaled_service_scales_only_with_redis_memory_over_the_vpc() -> None:
    manifest = _load(CLOUDRUN_DIR / "service.scaled.yaml")
    annotations = _annotations(manifest)
    assert int(annotations["autoscaling.knative.dev/maxScale"]) > 1
    assert annotations["run.googleapis.com/vpc-access-connector"]
    memory = _env(manifest)["SPOTTER_MEMORY_URL"]
    assert "value" not in memory, "Memorystore's URL comes from Secret Manager (it may hold AUTH)"
    assert memory["valueFrom"]["secretKeyRef"]["name"] == "spotter-memory-url"


@pytest.mark.parametrize("path", SERVICE_MANIFESTS, ids=lambda p: p.name)
def test_service_is_sized_for_long_sse_streams(path: Path) -> None:
    manifest = _load(path)
    spec = manifest["spec"]["template"]["spec"]
    assert spec["timeoutSeconds"] == 3600
    assert spec["containerConcurrency"] == 1000  # docs/deploy.md, "Concurrency": 5,000 held in the benchmark
    assert _annotations(manifest)["run.googleapis.com/cpu-throttling"] == "false"
    env = _env(manifest)
    assert float(env["SPOTTER_DRAIN_SECONDS"]["value"]) < 10, "must end before Cloud Run's SIGKILL"


@pytest.mark.parametrize("path", SERVICE_MANIFESTS, ids=lambda p: p.name)
def test_service_uses_cloud_sql_and_pinecone(path: Path) -> None:
    manifest = _load(path)
    env = _env(manifest)
    assert env["SPOTTER_VECTOR_STORE"]["value"] == "pinecone"
    assert env["SPOTTER_PINECONE_HOST"]["value"]
    assert "valueFrom" in env["SPOTTER_DATABASE_URL"]
    assert _annotations(manifest)["run.googleapis.com/cloudsql-instances"]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_secrets_come_only_from_secret_manager(path: Path) -> None:
    for name, item in _env(_load(path)).items():
        if SECRET_NAMES.search(name):
            assert "value" not in item, f"{name} is a literal; use valueFrom.secretKeyRef"
            assert item["valueFrom"]["secretKeyRef"]["key"] == "latest"


@pytest.mark.parametrize("path", SERVICE_MANIFESTS, ids=lambda p: p.name)
def test_service_probes_readiness_at_startup_and_liveness_after(path: Path) -> None:
    container = _container(_load(path))
    port = container["ports"][0]["containerPort"]
    assert container["startupProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_probe_timings_fit_cloud_run_limits(path: Path) -> None:
    container = _container(_load(path))
    for kind in ("startupProbe", "livenessProbe"):
        probe = container[kind]
        assert probe["timeoutSeconds"] <= probe["periodSeconds"], kind
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] <= 240


def test_service_manifests_listen_where_the_image_listens() -> None:
    runtime = parse_dockerfile(SERVICE_DOCKERFILE)[-1]
    image_port = int(runtime.environment()["PORT"])
    for path in SERVICE_MANIFESTS:
        assert _container(_load(path))["ports"][0]["containerPort"] == image_port, path.name
