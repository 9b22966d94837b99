"""The service's own route table and, read from each handler's source, the statuses it can answer.

Introspects the Litestar app that `spotter.http.app.create_app` builds (no server, no lifespan),
so a route added or removed without the spec, or a handler that learns to raise a new error, shows
up as drift. The status inference is static and deliberately simple: a handler (and the helpers of
its own module that it calls) that reads a JSON body can answer 400/413/415, one that authenticates
can answer 401, and so on, per `STATUS_MARKERS`.
"""

from __future__ import annotations

import inspect
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotter.http.app import create_app
from spotter.settings import Settings

__all__ = ["STATUS_MARKERS", "ServiceRoute", "service_routes", "statuses_from_source"]

#: Source fragment -> statuses it lets a handler answer (besides the handler's own success status).
STATUS_MARKERS: dict[str, frozenset[str]] = {
    "authenticated_user(": frozenset({"401"}),
    "raise_if_invalid(": frozenset({"400"}),
    "InvalidRequest(": frozenset({"400"}),
    "read_json_body(": frozenset({"400", "413", "415"}),
    "accepts_event_stream(": frozenset({"406"}),
    "NotFound(": frozenset({"404"}),
    "DatabaseUnavailable(": frozenset({"503"}),
    "coordinator.start(": frozenset({"409", "422", "429", "503"}),
    "coordinator.cancel(": frozenset({"503"}),
    "coordinator.forget(": frozenset({"503"}),
    "coordinator.forget_user(": frozenset({"503"}),
    "problem(503": frozenset({"503"}),
}
_CALLED_NAME = re.compile(r"\b(_[a-z][a-z0-9_]*)\(")


@dataclass(frozen=True)
class ServiceRoute:
    """One (method, path) the service routes to a Spotter handler."""

    method: str
    path: str
    handler: Callable[..., Any]
    status: str


def service_routes(data_dir: Path) -> tuple[list[ServiceRoute], list[str]]:
    """Every route of the real app, without OPTIONS (the app answers it for every path, outside
    the spec); and its warnings.

    Building the app may warn (e.g. a deprecated parameter style); the warnings are returned, not
    raised, so the route table can still be compared while a test reports them on their own.
    """
    settings = Settings(auth_secret="contract-drift-secret-of-at-least-32-bytes", data_dir=data_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        litestar: Any = create_app(settings).app
        litestar.routes  # noqa: B018 - the route table is built (and warns) on first access
    routes: list[ServiceRoute] = []
    for route in litestar.routes:
        for handler in route.route_handlers:
            function = handler.fn
            status = str(handler.status_code or 200)
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                routes.append(ServiceRoute(method, route.path_format, function, status))
    return routes, [str(warning.message) for warning in caught]


def statuses_from_source(handler: Callable[..., Any]) -> set[str]:
    """Error statuses the handler's source (and its module's private helpers it calls) can answer."""
    module = sys.modules[handler.__module__]
    sources: list[str] = []
    pending, seen = [handler], set()
    while pending:
        function = pending.pop()
        if function in seen:
            continue
        seen.add(function)
        source = inspect.getsource(function)
        sources.append(source)
        for name in _CALLED_NAME.findall(source):
            helper = getattr(module, name, None)
            if inspect.isfunction(helper):
                pending.append(helper)
    text = "\n".join(sources)
    return {status for marker, statuses in STATUS_MARKERS.items() if marker in text for status in statuses}
