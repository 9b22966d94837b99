"""Settings come from SPOTTER_* variables, validated at start-up with the variable's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotter.errors import ConfigurationError
from spotter.settings import DEVELOPMENT_SECRET, Settings

SECRET = "s" * 32


def test_defaults_in_development_need_no_secret() -> None:
    settings = Settings.from_env({"SPOTTER_ENV": "development"})
    assert settings.auth_secret == DEVELOPMENT_SECRET
    assert settings.memory_window == 6
    assert settings.memory_ttl_seconds == 3600
    assert settings.llm == "offline"


def test_values_are_typed() -> None:
    settings = Settings.from_env({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_MEMORY_WINDOW": "2",
                                  "SPOTTER_DATA_DIR": "/tmp/x", "SPOTTER_HEARTBEAT_SECONDS": "0.5"})
    assert settings.memory_window == 2
    assert settings.data_dir == Path("/tmp/x")
    assert settings.heartbeat_seconds == 0.5


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({}, "SPOTTER_AUTH_SECRET"),
        ({"SPOTTER_AUTH_SECRET": "short"}, "SPOTTER_AUTH_SECRET"),
        ({"SPOTTER_AUTH_SECRET": DEVELOPMENT_SECRET}, "SPOTTER_AUTH_SECRET"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_MEMORY_WINDOW": "5"}, "SPOTTER_MEMORY_WINDOW"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_MEMORY_WINDOW": "six"}, "SPOTTER_MEMORY_WINDOW"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_MAX_MESSAGE_CHARS": "5000"}, "SPOTTER_MAX_MESSAGE_CHARS"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_LLM": "gpt"}, "SPOTTER_LLM"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_KEEP_ALIVE_SECONDS": "0"}, "SPOTTER_KEEP_ALIVE_SECONDS"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_LLM": "anthropic"}, "ANTHROPIC_API_KEY"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_VECTOR_STORE": "pinecone"}, "PINECONE_API_KEY"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_MEMORY_URL": "mysql://x"}, "SPOTTER_MEMORY_URL"),
        ({"SPOTTER_AUTH_SECRET": SECRET, "SPOTTER_MEMORY_TTL_SECONDS": "0"}, "SPOTTER_MEMORY_TTL_SECONDS"),
    ],
)
def test_bad_configuration_names_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_env(environ)


def test_building_the_index_needs_no_secret() -> None:
    settings = Settings.from_env({"SPOTTER_DATA_DIR": "/tmp/build"}, require_secret=False)
    assert settings.auth_secret == ""
    with pytest.raises(ConfigurationError, match="SPOTTER_AUTH_SECRET"):
        Settings.from_env({"SPOTTER_DATA_DIR": "/tmp/build"})
