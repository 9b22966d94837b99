"""Health, readiness, metrics and the served spec documents."""

from __future__ import annotations

import httpx
import yaml

from spotter.spec import spec_path
from tests.support.service_process import ServiceProcess


def test_healthz_and_readyz(offline_service: ServiceProcess) -> None:
    health = httpx.get(f"{offline_service.url}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert health.headers["x-request-id"]
    ready = httpx.get(f"{offline_service.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"memory": "ok", "vector_store": "ok", "database": "ok", "llm": "ok",
                                      "draining": "ok"}


def test_the_served_spec_is_the_bundle_byte_for_byte(offline_service: ServiceProcess) -> None:
    served = httpx.get(f"{offline_service.url}/openapi.yaml")
    assert served.status_code == 200
    assert served.content == spec_path().read_bytes()
    derived = yaml.safe_load(httpx.get(f"{offline_service.url}/openapi-3.1.yaml").content)
    assert derived["openapi"].startswith("3.1")


def test_metrics_expose_the_documented_series(offline_service: ServiceProcess) -> None:
    text = httpx.get(f"{offline_service.url}/metrics").text
    for name in ("spotter_memory_conversations", "spotter_memory_tombstones", "spotter_open_streams",
                 "spotter_llm_requests_in_flight", "spotter_turns_total", "spotter_time_to_first_event_seconds_bucket",
                 "spotter_python_allocated_blocks"):
        assert name in text, name
