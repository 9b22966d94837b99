"""Health, readiness, metrics and the served spec documents."""

from __future__ import annotations

import http.client
import time

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


def test_an_idle_connection_outlives_the_clients_own_idle_expiry(offline_service: ServiceProcess) -> None:
    """uvicorn alone closes an idle connection after 5 s, the moment a pooled client (httpx 5 s,
    undici 4 s) may send on it; the service keeps it longer, so the client always closes first."""
    connection = http.client.HTTPConnection("127.0.0.1", offline_service.port, timeout=10)
    try:
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        assert first.status == 200 and first.read() == b'{"status":"ok"}'
        opened = connection.sock
        time.sleep(6)  # idle past uvicorn's default keep-alive
        connection.request("GET", "/healthz")
        assert connection.sock is opened  # the same connection, not a new one
        second = connection.getresponse()  # one the service closed raises RemoteDisconnected here
        assert second.status == 200 and second.read() == b'{"status":"ok"}'
    finally:
        connection.close()


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
