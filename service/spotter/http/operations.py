"""Liveness, readiness, metrics and the spec documents."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, get

from spotter.http.problems import problem
from spotter.services import Services
from spotter.spec import openapi_31_bytes, spec_bytes

__all__ = ["health", "metrics", "openapi_document", "openapi_document_31", "readiness"]

_encoder = msgspec.json.Encoder()
CHECK_TIMEOUT_SECONDS = 2.0


@get("/healthz")
async def health() -> Response[bytes]:
    """200 while the process serves requests."""
    return Response(b'{"status":"ok"}', media_type="application/json")


async def _check(probe: Any) -> str:
    try:
        ok = await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception:
        return "unavailable"
    return "ok" if ok else "unavailable"


@get("/readyz")
async def readiness(request: Request[Any, Any, Any]) -> Response[bytes]:
    """200 when every dependency is usable, else 503 naming what is not."""
    services: Services = request.app.state.services
    memory, vector_store, database = await asyncio.gather(
        _check(services.memory.ping), _check(services.vector_store.ping), _check(services.workouts.ping)
    )
    checks = {
        "memory": memory,
        "vector_store": vector_store,
        "database": database,
        "llm": "ok",  # configuration is validated at start-up; a bad key shows in turns, not here
        "draining": "draining" if services.coordinator.draining else "ok",
    }
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        return problem(503, "not-ready", "Not ready", "not ready: " + ", ".join(failing),
                       checks=checks, headers={"Retry-After": "5"})
    return Response(_encoder.encode({"status": "ready", "checks": checks}), media_type="application/json")


@get("/metrics")
async def metrics(request: Request[Any, Any, Any]) -> Response[str]:
    """Prometheus text format."""
    services: Services = request.app.state.services
    return Response(await services.metrics.render(), media_type="text/plain; version=0.0.4")


@get("/openapi.yaml")
async def openapi_document() -> Response[bytes]:
    """The hand-written OpenAPI 3.2 document, byte for byte."""
    return Response(spec_bytes(), media_type="application/yaml")


@get("/openapi-3.1.yaml")
async def openapi_document_31() -> Response[bytes]:
    """The 3.1 copy derived for code generators."""
    return Response(openapi_31_bytes(), media_type="application/yaml")
