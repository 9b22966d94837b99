"""The ASGI application: Litestar routes, problem mapping, lifespan, and the request context."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from litestar import Litestar, Response, route
from litestar.handlers import HTTPRouteHandler

from spotter.http import chat_routes, operations, workout_routes
from spotter.http.problems import exception_handlers
from spotter.http.request_context import RequestContext
from spotter.metrics import Metrics
from spotter.services import Services
from spotter.settings import Settings
from spotter.spec import openapi_31_bytes

__all__ = ["ShutdownHooks", "create_app"]


@dataclass(slots=True)
class ShutdownHooks:
    """Lets the server ask the app to drain before it closes connections (SIGTERM handling)."""

    drain: Callable[[], Awaitable[int]] | None = None
    services: list[Services] = field(default_factory=list)


def create_app(settings: Settings, hooks: ShutdownHooks | None = None) -> RequestContext:
    """The service as an ASGI app; components are built in its lifespan, not at import."""
    hooks = hooks or ShutdownHooks()
    metrics = Metrics()
    openapi_31_bytes()  # derive the 3.1 copy at start-up, so a broken spec fails fast

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services = await Services.open(settings, metrics=metrics)
        app.state.services = services
        hooks.services.append(services)
        hooks.drain = lambda: services.coordinator.drain(settings.drain_seconds)
        services.start()
        try:
            yield
        finally:
            await services.stop()

    handlers: list[HTTPRouteHandler] = [
            chat_routes.chat,
            chat_routes.cancel_turn,
            chat_routes.forget_conversation,
            workout_routes.create_workout,
            workout_routes.list_workouts,
            workout_routes.get_workout,
            workout_routes.delete_workout,
            workout_routes.delete_all_workouts,
            workout_routes.erase_my_data,
            operations.health,
            operations.readiness,
            operations.metrics,
            operations.openapi_document,
            operations.openapi_document_31,
    ]
    litestar = Litestar(
        route_handlers=[*_options_handlers(handlers), *handlers],
        exception_handlers=exception_handlers(),
        lifespan=[lifespan],
        openapi_config=None,  # the hand-written spec is the truth; Litestar's generator is off
        logging_config=None,  # JSON logs are configured once by the CLI (spotter.observability)
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
    return RequestContext(litestar, metrics)


def _options_handlers(handlers: list[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """One OPTIONS handler per path whose `Allow` names every method of the path.

    Litestar's automatic OPTIONS handler only knows the methods of the first handler registered
    for a path; registering these first stops it from making its own.
    """
    methods: defaultdict[str, set[str]] = defaultdict(set)
    for handler in handlers:
        for path in handler.paths:
            methods[path] |= set(handler.http_methods)
    return [_options_handler(path, ", ".join(sorted(allowed | {"OPTIONS"}))) for path, allowed in methods.items()]


def _options_handler(path: str, allow: str) -> HTTPRouteHandler:
    async def options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allow})

    return route(path, http_method=["OPTIONS"], name=f"options:{path}")(options)
