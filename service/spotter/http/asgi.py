"""`spotter.http.asgi:app` for multi-worker uvicorn: each worker builds its app from the environment."""

from __future__ import annotations

from spotter.http.app import create_app
from spotter.settings import Settings

__all__ = ["app"]

app = create_app(Settings.from_env())
