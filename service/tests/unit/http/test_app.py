"""The app's route table: OPTIONS names every method of a path (Litestar alone names only one)."""

from __future__ import annotations

import httpx
import pytest

from spotter.http.app import create_app
from spotter.settings import Settings

APP = create_app(Settings.from_env({"SPOTTER_ENV": "development"}))


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/workouts", "DELETE, GET, OPTIONS, POST"),
        ("/v1/workouts/0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11", "DELETE, GET, OPTIONS"),
        ("/v1/chat", "OPTIONS, POST"),
        ("/v1/conversations/0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11", "DELETE, OPTIONS"),
    ],
)
async def test_options_allow_lists_every_method_of_the_path(path: str, allow: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://spotter") as client:
        response = await client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allow
    assert response.headers["x-request-id"]
