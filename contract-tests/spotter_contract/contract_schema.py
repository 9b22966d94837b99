"""The hand-written spec loaded for schemathesis, and which of its operations each server serves.

A path with its own `servers` is served only there (`/v1/tokens` by the web app, `/healthz` by
the service); a path without one is served by both, the web app under `/api`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from spotter.spec import load_spec, spec_path
from spotter_contract.target import SMOKE, ContractTarget

__all__ = ["CONFIG_PATH", "SPEC_PATH", "WEB_UNEXPECTED_METHODS", "load_contract_schema", "operations_served_by"]

SPEC_PATH = spec_path()
CONFIG_PATH = Path(__file__).resolve().parents[1] / "schemathesis.toml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace", "query")
#: The undeclared methods the coverage phase sends through the web app: schemathesis 4.32's default
#: set without TRACE and QUERY, which the web tier's HTTP server answers itself before any app code
#: (Next.js builds a fetch `Request` per call, and `new Request` refuses TRACE: a bare 500; Next's
#: route module answers any method outside its own list, QUERY included, with a bare 400). Only
#: Next middleware could see QUERY, and it costs every `/api` request ~0.9 ms. The service answers
#: both with 405 problems, and its run still sends all eight.
WEB_UNEXPECTED_METHODS = ("get", "put", "post", "delete", "options", "patch")


def operations_served_by(server: str, spec: dict[str, Any] | None = None) -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path) for `server` = "service" (servers[0]) or "web" (servers[1])."""
    document = spec or load_spec()
    url = document["servers"][0 if server == "service" else 1]["url"]
    served: dict[str, tuple[str, str]] = {}
    for path, item in document["paths"].items():
        own = item.get("servers")
        if own is not None and url not in [entry["url"] for entry in own]:
            continue
        for method in METHODS:
            if method in item:
                served[item[method]["operationId"]] = (method.upper(), path)
    return served


def _accepts_api_token(operation_id: str) -> bool:
    document = load_spec()
    method, path = operations_served_by("web", document)[operation_id]
    security = document["paths"][path][method.lower()].get("security", document.get("security", []))
    return any("apiToken" in requirement for requirement in security)


def load_contract_schema(server: str = "service", *, only: set[str] | None = None,
                         without: set[str] | None = None) -> OpenApiSchema:
    """The 3.2 spec with Spotter's schemathesis settings, narrowed to what `server` serves.

    Narrow with `only`/`without` (operationIds) here, in one `include`: in schemathesis 4.32.5 a
    filter applied to an already filtered schema replaces the first filter instead of adding to it.
    """
    settings = tomllib.loads(CONFIG_PATH.read_text())
    coverage = settings.setdefault("phases", {}).setdefault("coverage", {})
    if SMOKE:  # a smoke run skips the exhaustive coverage phase; examples and fuzzing remain
        coverage["enabled"] = False
    if server == "web":
        coverage["unexpected-methods"] = list(WEB_UNEXPECTED_METHODS)
    deployment = ContractTarget.from_environment()
    if deployment is not None:
        # The schema's base path must be the target's (`/api` for the proxy): checks match the URL a
        # response came from against the operation's path to read the query as sent. Without it a
        # proxied case is judged on generated values instead (e.g. `limit=20` re-validated as the
        # string "20"), and the same case that passes against the service fails through `/api`.
        settings["base-url"] = deployment.base_url
    config = schemathesis.Config.from_dict(settings, base_dir=str(CONFIG_PATH.parent))
    schema = schemathesis.openapi.from_path(SPEC_PATH, config=config)
    chosen = set(operations_served_by(server))
    if server == "web":  # the run authenticates with a personal API token: session-only operations stay out
        chosen = {op for op in chosen if _accepts_api_token(op)}
    if only is not None:
        chosen &= only
    chosen -= without or set()
    included = schema.include(operation_id=sorted(chosen))
    assert isinstance(included, OpenApiSchema)
    return included
