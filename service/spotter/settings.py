"""Every setting Spotter reads, from `SPOTTER_*` environment variables, in one typed object.

Built once at start-up by `Settings.from_env()` (never at import), and validated there so a bad
value stops the process with the variable's name in the message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from spotter.errors import ConfigurationError

__all__ = ["DEVELOPMENT_SECRET", "Settings"]

#: Used only when SPOTTER_ENV=development and no secret is set, so `make run` needs no setup.
DEVELOPMENT_SECRET = "spotter-development-secret-not-for-production-use"  # noqa: S105 (dev only)
MIN_SECRET_BYTES = 32
MAX_MESSAGE_CHARS = 4000  # the spec's maxLength; the setting may lower it, never raise it

Environment = Literal["development", "production"]
LLMBackend = Literal["offline", "anthropic"]
VectorStoreBackend = Literal["local", "pinecone"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Spotter's configuration; every field has a documented default (see README)."""

    env: Environment = "production"
    auth_secret: str = ""
    llm: LLMBackend = "offline"
    anthropic_model: str = "claude-sonnet-4-6"
    anthropic_api_key: str = ""
    anthropic_base_url: str = ""
    llm_timeout_seconds: float = 60.0
    llm_max_connections: int = 10_000
    max_output_tokens: int = 1024
    offline_token_delay_seconds: float = 0.0
    memory_url: str = "memory://"
    memory_ttl_seconds: float = 3600.0
    memory_window: int = 6
    memory_max_conversations: int = 100_000
    memory_tombstone_seconds: float = 86_400.0
    memory_sweep_seconds: float = 1.0
    max_message_chars: int = MAX_MESSAGE_CHARS
    max_body_bytes: int = 65_536
    heartbeat_seconds: float = 15.0
    resume_grace_seconds: float = 30.0
    drain_seconds: float = 8.0
    #: How long an idle HTTP connection stays open. Longer than a client's or proxy's own idle
    #: expiry (undici 4 s, httpx 5 s), so the client always closes first and never sends a request
    #: on a connection the service is closing at that moment (uvicorn's default is 5 s).
    keep_alive_seconds: float = 75.0
    rate_limit_per_minute: int = 30
    max_streams_per_user: int = 3
    data_dir: Path = Path(".spotter-data")
    database_url: str = ""
    vector_store: VectorStoreBackend = "local"
    pinecone_api_key: str = ""
    pinecone_host: str = ""
    retrieval_top_k: int = 4
    api_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, require_secret: bool = True) -> Settings:
        """Read the environment (default `os.environ`) and validate; raises ConfigurationError.

        `require_secret=False` is for commands that never authenticate anyone (building the
        index at image build time), so no secret has to be baked into a build.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = _variable_name(f.name)
            if name not in env:
                continue
            raw = env[name].strip()
            default = f.default
            try:
                if isinstance(default, bool):
                    values[f.name] = raw.lower() in {"1", "true", "yes", "on"}
                elif isinstance(default, int):
                    values[f.name] = int(raw)
                elif isinstance(default, float):
                    values[f.name] = float(raw)
                elif isinstance(default, Path):
                    values[f.name] = Path(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                raise ConfigurationError(f"{name}={raw!r} is not a valid {type(default).__name__}") from None
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.env == "development" and not settings.auth_secret:
            settings = _replace(settings, auth_secret=DEVELOPMENT_SECRET)
        settings.validate(require_secret=require_secret)
        return settings

    def validate(self, *, require_secret: bool = True) -> None:
        """Raise ConfigurationError naming the first invalid variable."""
        _choice("SPOTTER_ENV", self.env, ("development", "production"))
        _choice("SPOTTER_LLM", self.llm, ("offline", "anthropic"))
        _choice("SPOTTER_VECTOR_STORE", self.vector_store, ("local", "pinecone"))
        if require_secret and len(self.auth_secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"SPOTTER_AUTH_SECRET must be set to at least {MIN_SECRET_BYTES} bytes "
                "(only SPOTTER_ENV=development has a built-in secret)"
            )
        if self.env == "production" and self.auth_secret == DEVELOPMENT_SECRET:
            raise ConfigurationError("SPOTTER_AUTH_SECRET is the development secret; set a real one")
        if self.memory_window < 2 or self.memory_window % 2:
            raise ConfigurationError("SPOTTER_MEMORY_WINDOW must be an even number of messages >= 2")
        if not 1 <= self.max_message_chars <= MAX_MESSAGE_CHARS:
            raise ConfigurationError(f"SPOTTER_MAX_MESSAGE_CHARS must be between 1 and {MAX_MESSAGE_CHARS}")
        _positive("SPOTTER_MEMORY_TTL_SECONDS", self.memory_ttl_seconds)
        _positive("SPOTTER_MEMORY_MAX_CONVERSATIONS", self.memory_max_conversations)
        _positive("SPOTTER_MEMORY_TOMBSTONE_SECONDS", self.memory_tombstone_seconds)
        _positive("SPOTTER_MEMORY_SWEEP_SECONDS", self.memory_sweep_seconds)
        _positive("SPOTTER_MAX_BODY_BYTES", self.max_body_bytes)
        _positive("SPOTTER_HEARTBEAT_SECONDS", self.heartbeat_seconds)
        _positive("SPOTTER_KEEP_ALIVE_SECONDS", self.keep_alive_seconds)
        _positive("SPOTTER_LLM_TIMEOUT_SECONDS", self.llm_timeout_seconds)
        _positive("SPOTTER_LLM_MAX_CONNECTIONS", self.llm_max_connections)
        _positive("SPOTTER_MAX_OUTPUT_TOKENS", self.max_output_tokens)
        _positive("SPOTTER_RATE_LIMIT_PER_MINUTE", self.rate_limit_per_minute)
        _positive("SPOTTER_MAX_STREAMS_PER_USER", self.max_streams_per_user)
        _positive("SPOTTER_RETRIEVAL_TOP_K", self.retrieval_top_k)
        if self.drain_seconds < 0 or self.resume_grace_seconds < 0 or self.offline_token_delay_seconds < 0:
            raise ConfigurationError("SPOTTER_DRAIN_SECONDS, SPOTTER_RESUME_GRACE_SECONDS and "
                                     "SPOTTER_OFFLINE_TOKEN_DELAY_SECONDS must not be negative")
        scheme = urlparse(self.memory_url).scheme
        if scheme not in {"memory", "redis", "rediss"}:
            raise ConfigurationError("SPOTTER_MEMORY_URL must be memory:// or redis://HOST:PORT/DB")
        if self.llm == "anthropic" and not self.anthropic_api_key:
            raise ConfigurationError("ANTHROPIC_API_KEY is required when SPOTTER_LLM=anthropic")
        if self.vector_store == "pinecone" and not (self.pinecone_api_key and self.pinecone_host):
            raise ConfigurationError(
                "PINECONE_API_KEY and SPOTTER_PINECONE_HOST are required when SPOTTER_VECTOR_STORE=pinecone"
            )

    @property
    def uses_redis(self) -> bool:
        """Whether memory lives in Redis (and so may be shared by several workers)."""
        return urlparse(self.memory_url).scheme in {"redis", "rediss"}


_UNPREFIXED = {
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "anthropic_base_url": "ANTHROPIC_BASE_URL",
    "pinecone_api_key": "PINECONE_API_KEY",
}


def _variable_name(field_name: str) -> str:
    return _UNPREFIXED.get(field_name, "SPOTTER_" + field_name.upper())


def _replace(settings: Settings, **changes: object) -> Settings:
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    values.update(changes)
    return Settings(**values)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigurationError(f"{name}={value!r} must be one of {', '.join(allowed)}")


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive")
