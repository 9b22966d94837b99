"""`spotter serve`'s uvicorn options: the listen backlog comes from the settings."""

from __future__ import annotations

from spotter.cli import uvicorn_options
from spotter.settings import Settings


def test_serve_listens_with_the_configured_backlog() -> None:
    # uvicorn's own default (2,048) overflowed in the 2,000-client soak (docs/reliability.md).
    assert uvicorn_options(Settings(env="development"), "127.0.0.1", 0)["backlog"] == 4096
    settings = Settings.from_env({"SPOTTER_ENV": "development", "SPOTTER_LISTEN_BACKLOG": "8192"})
    options = uvicorn_options(settings, "127.0.0.1", 8000)
    assert (options["backlog"], options["host"], options["port"]) == (8192, "127.0.0.1", 8000)

