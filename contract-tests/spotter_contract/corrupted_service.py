"""The real Spotter app behind a test-side ASGI middleware that breaks its responses on request.

Proves the contract suite can fail: `test_corrupted_service.py` starts this on a loopback port and
runs the suite against it once per corruption, all at once: the corruption is chosen per request
by the caller's user id (`credentials:corrupt-drop-done` gets `drop-done`), read from the bearer
token's claims without checking it (the service behind checks every token as usual).
The middleware lives only here, in the tests; the service itself is built by its own
`create_app` from `SPOTTER_*` settings, exactly as `spotter serve` builds it.

    python -m spotter_contract.corrupted_service --port 8123
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from spotter.http.app import create_app
from spotter.settings import Settings

__all__ = ["CORRUPTIONS", "USER_PREFIX", "CorruptingMiddleware", "corruption_for", "main"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

CORRUPTIONS = ("none", "rename-field", "drop-done", "plain-text-400")
USER_PREFIX = "credentials:corrupt-"


def _corrupt_frame(frame: bytes, corruption: str) -> bytes:
    if corruption == "rename-field":
        return frame.replace(b'"delta":', b'"text":')
    if corruption == "drop-done" and b"\nevent: done\n" in b"\n" + frame:
        return b""
    return frame


def corruption_for(headers: list[tuple[bytes, bytes]]) -> str:
    """The corruption named by the bearer token's `sub` (unverified), or "none"."""
    for name, value in headers:
        if name.lower() != b"authorization" or not value.lower().startswith(b"bearer "):
            continue
        try:
            claims = json.loads(base64.urlsafe_b64decode(value.split(b".")[1] + b"=="))
        except (IndexError, ValueError):
            return "none"
        sub = claims.get("sub", "") if isinstance(claims, dict) else ""
        chosen = sub.removeprefix(USER_PREFIX) if isinstance(sub, str) and sub.startswith(USER_PREFIX) else "none"
        return chosen if chosen in CORRUPTIONS else "none"
    return "none"


class CorruptingMiddleware:
    """Passes everything through, except what the caller's corruption changes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._sender(send, corruption_for(scope["headers"])))

    def _sender(self, send: Send, corruption: str) -> Send:
        state: dict[str, Any] = {"stream": False, "plain": False, "buffer": b""}

        async def corrupted(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                state["stream"] = content_type.startswith(b"text/event-stream")
                if corruption == "plain-text-400" and message["status"] == 400:
                    state["plain"] = True
                    headers = [(n, v) for n, v in headers if n.lower() not in {b"content-type", b"content-length"}]
                    headers.append((b"content-type", b"text/plain; charset=utf-8"))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                more = message.get("more_body", False)
                if state["plain"]:
                    if more:
                        return
                    message = {**message, "body": b"Bad Request"}
                elif state["stream"] and corruption != "none":
                    state["buffer"] += message.get("body", b"")
                    *frames, state["buffer"] = state["buffer"].split(b"\n\n")
                    out = b"".join(_corrupt_frame(frame + b"\n\n", corruption) for frame in frames)
                    if not more:
                        out += state["buffer"]
                    message = {**message, "body": out}
            await send(message)

        return corrupted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = CorruptingMiddleware(create_app(Settings.from_env()))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
