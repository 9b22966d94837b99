"""A loopback server that speaks Anthropic's Messages API wire format, scriptable per test.

Spotter cannot reach api.anthropic.com from its tests, and the SDK uses its own httpx fork (so
transport mocks cannot intercept it): this server lets the real SDK talk real HTTP instead.

Wire format followed (docs.anthropic.com: "Messages", "Streaming Messages", "Errors"):

- ``POST /v1/messages`` with a JSON body. The key must match, sent as ``x-api-key`` (the
  documented header) or ``Authorization: Bearer`` (what SDK 2.x sends), else 401
  ``authentication_error``; ``anthropic-version`` must be present (else 400, as the API does).
- With ``"stream": true`` the reply is ``200 text/event-stream``; each event is
  ``event: <type>\\ndata: <json>\\n\\n``, in this order: ``message_start`` (a message with empty
  ``content``), ``content_block_start`` (``{"type": "text", "text": ""}``), ``ping``, one
  ``content_block_delta`` per piece of text (``{"type": "text_delta", "text": ...}``),
  ``content_block_stop``, ``message_delta`` (``stop_reason`` ``end_turn`` or ``max_tokens``, and
  ``usage.output_tokens``), ``message_stop``. An error after the stream has begun is an
  ``event: error`` carrying ``{"type": "error", "error": {"type": ..., "message": ...}}``
  inside the 200 response, after which the response ends.
- Without ``stream`` the reply is one JSON ``message`` object.
- Errors before the stream are that HTTP status with
  ``{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}``; 429 carries
  ``retry-after``.

Request rules enforced (400 ``invalid_request_error``): ``model`` a non-empty string,
``max_tokens`` a positive integer, ``messages`` a non-empty list whose roles alternate strictly
starting with ``user`` (stricter than the API, which merges consecutive turns: Spotter should
never send them), no empty or whitespace-only text content, ``system`` a string or a list of
text blocks, ``stream`` a boolean. Each delta counts as one output token, so a reply longer than
``max_tokens`` deltas is cut there with ``stop_reason: max_tokens``.

Use ``AnthropicServer`` as a context manager (it serves from a background thread, so sync and
async tests can both use it), or run it on its own with
``python -m tests.support.anthropic_server --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal, Protocol

import uvicorn

__all__ = ["AnthropicServer", "Behaviour", "LoopbackLLM", "RecordedRequest", "StreamRecord", "main", "spotter_env"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the server answers one request; the defaults give a normal, fast streamed reply.

    `text` None replies ``"You said: <last user message>"``; `deltas` None sends one delta per
    word, an integer splits the text into that many pieces. `hang_after=k` sends k deltas then
    sends nothing until the client goes away; `error_after=k` sends k deltas then an
    ``event: error`` of `error_type` (default ``overloaded_error``). `status` fails the request
    before the stream starts, with `error_type` or the API's type for that status.
    """

    text: str | None = None
    deltas: int | None = None
    delay: float = 0.0
    headers_delay: float = 0.0
    hang_after: int | None = None
    error_after: int | None = None
    error_type: str | None = None
    status: int | None = None
    retry_after: int | None = None
    stop_reason: Literal["end_turn", "max_tokens"] = "end_turn"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received: lower-cased headers, the parsed JSON body, the status answered."""

    headers: Mapping[str, str]
    body: Any
    status: int


@dataclass(slots=True)
class StreamRecord:
    """One streamed response: when it opened and closed (``time.monotonic()``), and why it ended."""

    opened_at: float
    closed_at: float | None = None
    deltas_sent: int = 0
    client_disconnected: bool = False


@dataclass(slots=True)
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)
    behaviours: deque[Behaviour] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    streams: list[StreamRecord] = field(default_factory=list)


class AnthropicServer:
    """The loopback server: script behaviours, start it, point the SDK at `base_url`."""

    def __init__(self, *, api_key: str = "test-key", default: Behaviour | None = None) -> None:
        self.api_key = api_key
        self.default = default or Behaviour()
        self._state = _State()
        self._thread: threading.Thread | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._socket: socket.socket | None = None

    # -- scripting and inspection (thread-safe) -------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, one each; then `default` applies again."""
        with self._state.lock:
            self._state.behaviours.extend(behaviours)

    def reset(self) -> None:
        """Forget queued behaviours and everything recorded (between tests sharing a server)."""
        with self._state.lock:
            self._state.behaviours.clear()
            self._state.requests.clear()
            self._state.streams.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def streams(self) -> list[StreamRecord]:
        """A snapshot of every streamed response so far, in order."""
        with self._state.lock:
            return [replace(record) for record in self._state.streams]

    @property
    def open_streams(self) -> int:
        """How many streamed responses are still open."""
        with self._state.lock:
            return sum(record.closed_at is None for record in self._state.streams)

    def wait_for(self, condition: Callable[[AnthropicServer], bool], within: float) -> bool:
        """Block until `condition(self)` holds (re-checked on every change) or `within` passes."""
        deadline = time.monotonic() + within
        with self._state.lock:
            while not condition(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.lock.wait(remaining)
            return True

    async def wait_for_async(
        self, condition: Callable[[AnthropicServer], bool], within: float
    ) -> bool:
        """`wait_for` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_for, condition, within)

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        if self._socket is None:
            raise RuntimeError("the server is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's `base_url`."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> AnthropicServer:
        """Bind 127.0.0.1 (`port` 0 picks a free one) and serve from a daemon thread."""
        self._socket = _bind(port)
        self._thread = threading.Thread(target=self._run, name="anthropic-loopback", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not (self._uvicorn is not None and self._uvicorn.started):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the loopback Anthropic server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Release hanging streams, stop serving and join the thread."""
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> AnthropicServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self, port: int) -> None:
        """Serve in the calling thread until SIGINT/SIGTERM (the command-line mode)."""
        self._socket = _bind(port)
        print(f"listening on {self.base_url}", flush=True)
        self._run()

    def _run(self) -> None:
        config = uvicorn.Config(
            self,
            lifespan="off",
            ws="none",
            loop="asyncio",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._uvicorn = uvicorn.Server(config)
        assert self._socket is not None
        asyncio.run(self._serve(self._uvicorn, self._socket))

    async def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await server.serve(sockets=[sock])

    # -- the ASGI application --------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (ASGI 3)."""
        if scope["type"] != "http":
            return
        raw = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] != "POST" or scope["path"] != "/v1/messages":
            await _send_error(send, 404, f"{scope['method']} {scope['path']} does not exist")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._record(headers, raw.decode("utf-8", "replace"), 400)
            await _send_error(send, 400, "the request body is not valid JSON")
            return
        problem, status = _header_problem(headers, self.api_key) or (_request_problem(body), 400)
        if problem is not None:
            self._record(headers, body, status)
            await _send_error(send, status, problem)
            return
        behaviour = self._next_behaviour()
        self._record(headers, body, behaviour.status or 200)
        if behaviour.headers_delay and await self._wait_or_disconnect(
            receive, behaviour.headers_delay
        ):
            return
        if behaviour.status is not None:
            retry_after = behaviour.retry_after
            extra = [] if retry_after is None else [(b"retry-after", b"%d" % retry_after)]
            error_type = behaviour.error_type or ERROR_TYPES.get(behaviour.status, "api_error")
            await _send_error(send, behaviour.status, "scripted failure", error_type, extra)
            return
        pieces, stop_reason = _reply_pieces(behaviour, body)
        if body.get("stream"):
            await self._stream(receive, send, body, behaviour, pieces, stop_reason)
        else:
            await _send_message(send, body, pieces, stop_reason)

    async def _stream(
        self,
        receive: Receive,
        send: Send,
        body: Mapping[str, Any],
        behaviour: Behaviour,
        pieces: Sequence[str],
        stop_reason: str,
    ) -> None:
        record = StreamRecord(opened_at=time.monotonic())
        with self._state.lock:
            self._state.streams.append(record)
            self._state.lock.notify_all()
        disconnected = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, disconnected))
        try:
            await send(_start(200, b"text/event-stream", [(b"cache-control", b"no-cache")]))
            start = {"type": "message_start", "message": _message(body, [], None, 0)}
            await _send_chunk(send, _sse("message_start", start))
            await _send_chunk(send, _sse("content_block_start", {
                "type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""},
            }))
            await _send_chunk(send, _sse("ping", {"type": "ping"}))
            for index, piece in enumerate(pieces):
                if index == behaviour.hang_after:
                    await self._hang(send, disconnected)
                    return
                if index == behaviour.error_after:
                    await _send_error_event(send, behaviour.error_type or "overloaded_error")
                    return
                if index and behaviour.delay and await _sleep_unless(disconnected, behaviour.delay):
                    return
                if disconnected.is_set():
                    return
                await _send_chunk(send, _sse("content_block_delta", {
                    "type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                }))
                with self._state.lock:
                    record.deltas_sent += 1
            if behaviour.hang_after is not None and behaviour.hang_after >= len(pieces):
                await self._hang(send, disconnected)
                return
            if behaviour.error_after is not None and behaviour.error_after >= len(pieces):
                await _send_error_event(send, behaviour.error_type or "overloaded_error")
                return
            stop = {"type": "content_block_stop", "index": 0}
            await _send_chunk(send, _sse("content_block_stop", stop))
            await _send_chunk(send, _sse("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": len(pieces)},
            }))
            await _send_chunk(send, _sse("message_stop", {"type": "message_stop"}), more=False)
        finally:
            watcher.cancel()
            with self._state.lock:
                record.closed_at = time.monotonic()
                record.client_disconnected = disconnected.is_set()
                self._state.lock.notify_all()

    async def _hang(self, send: Send, disconnected: asyncio.Event) -> None:
        """Send nothing until the client leaves, or until `stop()` (then end the response)."""
        assert self._stopping is not None
        waits = [asyncio.create_task(event.wait()) for event in (disconnected, self._stopping)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        if not disconnected.is_set():
            await _send_chunk(send, b"", more=False)

    async def _wait_or_disconnect(self, receive: Receive, seconds: float) -> bool:
        disconnected = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, disconnected))
        try:
            return await _sleep_unless(disconnected, seconds)
        finally:
            watcher.cancel()

    def _next_behaviour(self) -> Behaviour:
        with self._state.lock:
            return self._state.behaviours.popleft() if self._state.behaviours else self.default

    def _record(self, headers: Mapping[str, str], body: Any, status: int) -> None:
        with self._state.lock:
            self._state.requests.append(RecordedRequest(headers=headers, body=body, status=status))
            self._state.lock.notify_all()


# -- request rules --------------------------------------------------------------------------------


def _header_problem(headers: Mapping[str, str], api_key: str) -> tuple[str, int] | None:
    if api_key not in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")):
        return "invalid x-api-key", 401
    if not headers.get("anthropic-version"):
        return "anthropic-version: header is required", 400
    return None


def _request_problem(body: Any) -> str | None:
    """What makes `body` an invalid Messages request, or None when it is valid."""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        return "max_tokens: Field required"
    if max_tokens < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    if "stream" in body and not isinstance(body["stream"], bool):
        return "stream: Input should be a valid boolean"
    system = body.get("system")
    if system is not None and not isinstance(system, str) and (
        not isinstance(system, list) or not all(_is_text_block(b) for b in system)
    ):
        return "system: Input should be a valid string or a list of text blocks"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    expected = "user"
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
        if message["role"] != expected:
            return (f"messages.{index}: roles must alternate between \"user\" and \"assistant\", "
                    "starting with \"user\"")
        expected = "assistant" if expected == "user" else "user"
        problem = _content_problem(message.get("content"))
        if problem:
            return f"messages.{index}: {problem}"
    return None


def _content_problem(content: Any) -> str | None:
    if isinstance(content, str):
        return None if content.strip() else "text content blocks must contain non-whitespace text"
    if not isinstance(content, list) or not content:
        return "content: Input should be a valid string or a non-empty list of content blocks"
    for block in content:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return "content: each block must be an object with a type"
        if block["type"] == "text" and not _is_text_block(block):
            return "text content blocks must contain non-whitespace text"
    return None


def _is_text_block(block: Any) -> bool:
    return (
        isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
        and bool(block["text"].strip())
    )


# -- replies --------------------------------------------------------------------------------------


def _reply_pieces(behaviour: Behaviour, body: Mapping[str, Any]) -> tuple[list[str], str]:
    text = behaviour.text if behaviour.text is not None else f"You said: {_last_user_text(body)}"
    if behaviour.deltas is None:
        pieces = re.findall(r"\s*\S+", text) or [text]
    else:
        count = max(1, min(behaviour.deltas, len(text)))
        size, extra = divmod(len(text), count)
        bounds = [i * size + min(i, extra) for i in range(count + 1)]
        pieces = [text[bounds[i]:bounds[i + 1]] for i in range(count)]
    stop_reason: str = behaviour.stop_reason
    if len(pieces) > body["max_tokens"]:
        pieces, stop_reason = pieces[: body["max_tokens"]], "max_tokens"
    return pieces, stop_reason


def _last_user_text(body: Mapping[str, Any]) -> str:
    content = body["messages"][-1]["content"] if body["messages"][-1]["role"] == "user" else ""
    if isinstance(content, str):
        return content
    return " ".join(block["text"] for block in content if block.get("type") == "text")


def _message(
    body: Mapping[str, Any], content: list[dict[str, str]], stop_reason: str | None, output: int
) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": body["model"],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": _input_tokens(body), "output_tokens": output},
    }


def _input_tokens(body: Mapping[str, Any]) -> int:
    return len(json.dumps([body.get("system"), body["messages"]]).split())


async def _send_message(
    send: Send, body: Mapping[str, Any], pieces: Sequence[str], stop_reason: str
) -> None:
    content = [{"type": "text", "text": "".join(pieces)}]
    payload = json.dumps(_message(body, content, stop_reason, len(pieces))).encode()
    await send(_start(200, b"application/json", [(b"content-length", b"%d" % len(payload))]))
    await send({"type": "http.response.body", "body": payload, "more_body": False})


async def _send_error(
    send: Send,
    status: int,
    message: str,
    error_type: str | None = None,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    payload = json.dumps({
        "type": "error",
        "error": {"type": error_type or ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }).encode()
    headers = [(b"content-length", b"%d" % len(payload)), *extra_headers]
    await send(_start(status, b"application/json", headers))
    await send({"type": "http.response.body", "body": payload, "more_body": False})


async def _send_error_event(send: Send, error_type: str) -> None:
    error = {"type": "error", "error": {"type": error_type, "message": "scripted mid-stream error"}}
    await _send_chunk(send, _sse("error", error), more=False)


def _start(status: int, content_type: bytes, headers: Sequence[tuple[bytes, bytes]]) -> Message:
    request_id = f"req_{uuid.uuid4().hex[:24]}".encode()
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type), (b"request-id", request_id), *headers],
    }


async def _send_chunk(send: Send, chunk: bytes, *, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": more})


def _sse(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


# -- connection plumbing --------------------------------------------------------------------------


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    disconnected.set()


async def _sleep_unless(disconnected: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`; True (early) when the client disconnected meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected.wait(), seconds)
    return disconnected.is_set()


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--api-key", default="test-key", help="the x-api-key to accept")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between text deltas")
    args = parser.parse_args(argv)
    server = AnthropicServer(api_key=args.api_key, default=Behaviour(delay=args.delay))
    server.serve_forever(args.port)


if __name__ == "__main__":
    main()


class LoopbackLLM(Protocol):
    """What a service needs to answer through a loopback LLM (this server, or one in a process)."""

    @property
    def api_key(self) -> str: ...

    @property
    def base_url(self) -> str: ...


def spotter_env(server: LoopbackLLM, timeout_seconds: float = 5) -> dict[str, str]:
    """The settings that point a Spotter service at this loopback server."""
    return {
        "SPOTTER_LLM": "anthropic",
        "ANTHROPIC_API_KEY": server.api_key,
        "ANTHROPIC_BASE_URL": server.base_url,
        "SPOTTER_ANTHROPIC_MODEL": "claude-test",
        "SPOTTER_LLM_TIMEOUT_SECONDS": str(timeout_seconds),
    }
