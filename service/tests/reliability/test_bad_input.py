"""Malformed and hostile requests: always a 4xx problem+json, never a 500, and memory untouched.

One conversation takes a valid turn, then every bad request aimed at it, then another valid turn:
the LLM must see exactly the first exchange as history, and the turn count must be 2.
"""

from __future__ import annotations

import socket
import time
import uuid

import httpx

from tests.reliability.conftest import responses_with_status
from tests.reliability.figures import RunFigures
from tests.support.anthropic_server import AnthropicServer
from tests.support.observe import llm_messages
from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat

JSON = "application/json"
BODIES: dict[str, tuple[bytes, str]] = {
    "text/plain": (b'{"message":"hi"}', "text/plain"),
    "form": (b"message=hi", "application/x-www-form-urlencoded"),
    "multipart": (b"--x\r\n\r\nhi\r\n--x--", "multipart/form-data; boundary=x"),
    "no content type": (b'{"message":"hi"}', ""),
    "truncated JSON": (b'{"message":', JSON),
    "trailing garbage": (b'{"message":"hi"} x', JSON),
    "array": (b'["hi"]', JSON),
    "null": (b"null", JSON),
    "number message": (b'{"message":5}', JSON),
    "nested message": (b'{"message":{"text":"hi"}}', JSON),
    "empty body": (b"", JSON),
    "invalid UTF-8 0xff": (b'{"message":"\xff\xfe"}', JSON),
    "overlong UTF-8": (b'{"message":"\xc0\xaf"}', JSON),
    "UTF-8 encoded surrogate": (b'{"message":"\xed\xa0\x80"}', JSON),
    "lone high surrogate escape": (b'{"message":"\\ud800"}', JSON),
    "lone low surrogate escape": (b'{"message":"a\\udfffb"}', JSON),
    "reversed surrogate pair": (b'{"message":"\\ude00\\ud83d"}', JSON),
    "deeply nested": (b'{"message":' + b"[" * 10_000 + b"]" * 10_000 + b"}", JSON),
    "4001 code points": (('{"message":"' + "\U0001f4aa" * 4001 + '"}').encode(), JSON),
}
HEADERS: dict[str, dict[str, str | bytes]] = {
    "UUID without hyphens": {"X-Conversation-Id": uuid.uuid4().hex},
    "UUID in braces": {"X-Conversation-Id": "{" + str(uuid.uuid4()) + "}"},
    "URN UUID": {"X-Conversation-Id": uuid.uuid4().urn},
    "not a UUID": {"X-Conversation-Id": "x" * 36},
    "turn -1": {"X-Conversation-Turn": "-1"},
    "turn 1e3": {"X-Conversation-Turn": "1e3"},
    "turn hex": {"X-Conversation-Turn": "0x10"},
    "turn above maximum": {"X-Conversation-Turn": "1000001"},
    "turn absurd": {"X-Conversation-Turn": "9" * 40},
    "turn non-ASCII digits": {"X-Conversation-Turn": "\u0661\u0662".encode()},
    "turn empty": {"X-Conversation-Turn": ""},
    "Last-Event-ID without key": {"Last-Event-ID": "1"},
    "Last-Event-ID negative": {"Idempotency-Key": "k", "Last-Event-ID": "-5"},
    "Idempotency-Key with space": {"Idempotency-Key": "a b"},
    "Idempotency-Key 256 chars": {"Idempotency-Key": "k" * 256},
    "time zone path": {"X-Timezone": "../../etc/passwd"},
    "request id with spaces": {"X-Request-Id": "a b"},
    "Accept JSON only": {"Accept": "application/json"},
    "100 KB conversation id": {"X-Conversation-Id": "1" * 100_000},
    "100 KB Authorization": {"Authorization": "Bearer " + "a" * 100_000},
    "100 KB request id": {"X-Request-Id": "r" * 100_000},
    "100 KB Idempotency-Key": {"Idempotency-Key": "k" * 100_000},
    "100 KB time zone": {"X-Timezone": "Europe/" + "B" * 100_000},
}


def _assert_problem(response: httpx.Response, case: str) -> None:
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json", (case, response.headers)
    assert response.json()["status"] == response.status_code


def _raw(service: ServiceProcess, head: list[str], chunks: int = 0) -> tuple[int, int, float]:
    """Send a request by hand (streaming `chunks` 1 MiB chunks); returns status, bytes sent, seconds."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent, chunk = 0, b"%x\r\n%s\r\n" % (1 << 20, b"a" * (1 << 20))
        sock.settimeout(0.05)
        reply = b""
        while b"\r\n" not in reply:
            try:
                reply += sock.recv(4096)
                if not reply:
                    break
            except TimeoutError:
                if sent >= chunks:
                    sock.settimeout(10)
                    continue
                try:
                    sock.sendall(chunk)
                    sent += 1
                except OSError:
                    sock.settimeout(10)
    return int(reply.split(b" ", 2)[1]), sent << 20, time.monotonic() - started


def test_bad_bodies_and_headers_get_problems_and_never_touch_memory(
    reliability_service: ServiceProcess, anthropic: AnthropicServer, figures: RunFigures
) -> None:
    url = reliability_service.url
    before_500 = responses_with_status(reliability_service, "500")
    chat = Chat(url)
    assert chat.send("Remember: my max squat is 140 kg").done["turn"] == 1
    for case, (body, content_type) in BODIES.items():
        headers = chat.headers(**({"Content-Type": content_type} if content_type else {}))
        for path in ("/v1/chat", "/v1/workouts"):
            _assert_problem(httpx.post(url + path, content=body, headers=headers), f"{case} {path}")
            figures.add("inputs_tried")
    for case, extra in HEADERS.items():
        merged = {**chat.headers(), **extra}
        raw = {name.encode(): value if isinstance(value, bytes) else value.encode() for name, value in merged.items()}
        _assert_problem(httpx.post(f"{url}/v1/chat", json={"message": "hi"}, headers=raw), case)
        figures.add("inputs_tried")
    repeated = [*chat.headers().items(), ("X-Conversation-Id", str(uuid.uuid4()))]
    _assert_problem(httpx.post(f"{url}/v1/chat", json={"message": "hi"}, headers=repeated), "repeated id")
    twice = [*chat.headers().items(), ("Authorization", chat.headers()["Authorization"])]
    _assert_problem(httpx.post(f"{url}/v1/chat", json={"message": "hi"}, headers=twice), "two Authorization")
    many = [*chat.headers().items(), *[("X-Noise", str(n)) for n in range(500)]]
    noisy = httpx.post(f"{url}/v1/chat", json={"message": "a turn with 500 extra headers"}, headers=many)
    assert noisy.status_code == 200  # many harmless headers are fine: this is turn 2 of the conversation
    figures.add("inputs_tried", 3)
    for path in ("/v1/conversations/not-a-uuid/cancel", f"/v1/workouts/{uuid.uuid4().hex}"):
        _assert_problem(httpx.post(url + path, headers=chat.headers()) if "cancel" in path
                        else httpx.get(url + path, headers=chat.headers()), path)
        figures.add("inputs_tried")

    following = chat.send("What is my max squat?")
    assert following.done["turn"] == 3  # the 500-header turn was a real turn of this conversation
    history = llm_messages(anthropic)
    assert history[:2] == [("user", "Remember: my max squat is 140 kg"), ("assistant", "You said: Remember: my max "
                                                                                       "squat is 140 kg")]
    assert history[-1] == ("user", "What is my max squat?") and len(history) == 5
    assert responses_with_status(reliability_service, "500") == before_500


def test_oversized_bodies_get_413_without_being_read_whole(
    reliability_service: ServiceProcess, figures: RunFigures
) -> None:
    headers = [f"{k}: {v}" for k, v in Chat(reliability_service.url).headers().items()]
    base = ["POST /v1/chat HTTP/1.1", f"Host: 127.0.0.1:{reliability_service.port}", "Content-Type: application/json",
            *headers]
    status, sent, seconds = _raw(reliability_service, [*base, "Transfer-Encoding: chunked"], chunks=100)
    assert status == 413, status
    assert sent < 20 << 20 and seconds < 10, (sent, seconds)  # refused long before 100 MiB arrived
    status, sent, seconds = _raw(reliability_service, [*base, f"Content-Length: {100 << 20}"])
    assert status == 413 and sent == 0 and seconds < 5
    figures.add("inputs_tried", 2)


def test_a_client_leaving_mid_body_is_not_counted_as_a_server_error(
    reliability_service: ServiceProcess, figures: RunFigures
) -> None:
    before = responses_with_status(reliability_service, "500")
    body = b'{"message":"a message that never arrives whole"}'
    head = [f"{k}: {v}" for k, v in Chat(reliability_service.url).headers().items()]
    request = "\r\n".join(["POST /v1/chat HTTP/1.1", f"Host: 127.0.0.1:{reliability_service.port}",
                           "Content-Type: application/json", f"Content-Length: {len(body)}", *head])
    with socket.create_connection(("127.0.0.1", reliability_service.port), timeout=10) as sock:
        sock.sendall(request.encode() + b"\r\n\r\n" + body[:10])
    figures.add("inputs_tried")
    time.sleep(0.5)
    assert responses_with_status(reliability_service, "500") == before
