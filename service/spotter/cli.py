"""The `spotter` command: serve the API, mint a service token, ingest documents, build the index."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import uvicorn

from spotter.errors import ConfigurationError
from spotter.http.app import ShutdownHooks
from spotter.settings import Settings

__all__ = ["main"]


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from spotter.http.app import create_app
    from spotter.observability import configure_logging

    if args.workers > 1 and not settings.uses_redis:
        print(
            "spotter serve: --workers > 1 needs SPOTTER_MEMORY_URL=redis://...: with in-process "
            "memory each worker would hold a different part of every conversation.",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level)
    common = {
        "host": args.host,
        "port": args.port,
        "log_config": None,
        "access_log": False,
        "loop": "uvloop",
        "http": "httptools",
        "timeout_graceful_shutdown": max(1, int(settings.drain_seconds) + 1),
        "timeout_keep_alive": max(1, round(settings.keep_alive_seconds)),
    }
    if args.workers > 1:
        uvicorn.run("spotter.http.asgi:app", workers=args.workers, **common)
        return 0
    hooks = ShutdownHooks()
    config = uvicorn.Config(create_app(settings, hooks), **common)
    _DrainingServer(config, hooks).run()
    return 0


class _DrainingServer(uvicorn.Server):
    """uvicorn's server, but SIGTERM first drains turns (new ones get 503) and only then exits.

    uvicorn alone would stop listening and wait for open streams, which can last an hour; the
    drain keeps answering (503 for new turns, /readyz not ready) while streams finish or are ended
    at the deadline, then lets uvicorn shut down.
    """

    def __init__(self, config: uvicorn.Config, hooks: ShutdownHooks) -> None:
        super().__init__(config)
        self.hooks = hooks
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and not self._draining and self.hooks.drain is not None:
            self._draining = True
            self._drain_task = asyncio.get_running_loop().create_task(self._drain_then_exit())
            return
        super().handle_exit(sig, frame)

    async def _drain_then_exit(self) -> None:
        assert self.hooks.drain is not None
        await self.hooks.drain()
        self.should_exit = True


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from spotter.identity import mint_service_token

    try:
        print(mint_service_token(settings.auth_secret, args.sub, args.ttl))
    except ValueError as error:
        print(f"spotter token: {error}", file=sys.stderr)
        return 2
    return 0


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from spotter.retrieval.ingest_command import run_ingest_command

    return run_ingest_command(settings, args.path, args.format)


def _index(settings: Settings, args: argparse.Namespace) -> int:
    from spotter.retrieval.embedding import Embedder
    from spotter.retrieval.index import ensure_knowledge_index
    from spotter.retrieval.stores import open_vector_store

    if args.data_dir is not None:
        settings = Settings.from_env({**os.environ, "SPOTTER_DATA_DIR": str(args.data_dir)}, require_secret=False)
    status = asyncio.run(ensure_knowledge_index(settings, open_vector_store(settings), Embedder()))
    print(status)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spotter", description="Spotter: a fitness-coaching chat service.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API with uvicorn (one worker by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")),
                       help="default: $PORT if set (Cloud Run), else 8000")
    serve.add_argument("--workers", type=int, default=1, help="more than 1 only with Redis memory")
    serve.set_defaults(run=_serve)
    token = commands.add_parser("token", help="print a service token signed with SPOTTER_AUTH_SECRET")
    token.add_argument("--sub", required=True, help="namespaced user id, e.g. credentials:42")
    token.add_argument("--ttl", type=int, default=300, help="lifetime in seconds (at most 300)")
    token.set_defaults(run=_token)
    ingest = commands.add_parser(
        "ingest", help="add or update documents in the knowledge index (recorded in SPOTTER_DATA_DIR/sources)"
    )
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--format", choices=("spotter", "free-exercise-db"), default="spotter")
    ingest.set_defaults(run=_ingest)
    index = commands.add_parser("index", help="build the knowledge index if missing or stale, then exit")
    index.add_argument("--data-dir", type=Path, default=None, help="default: SPOTTER_DATA_DIR")
    index.set_defaults(run=_index)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `spotter` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(require_secret=args.command in {"serve", "token"})
    except ConfigurationError as error:
        print(f"spotter: configuration error: {error}", file=sys.stderr)
        return 2
    code: int = args.run(settings, args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
