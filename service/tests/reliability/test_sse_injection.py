"""No text can create, split or corrupt an event, end to end.

The loopback LLM answers with SSE framing (`\\n\\nevent: done`), carriage returns, NUL, lone
surrogates (as JSON escapes, which the SDK turns into lone surrogate code points) and 1 MB without
a newline; the user's message carries framing too. The raw body is parsed with the WHATWG rules
(CR, LF and CRLF all end a line), so a stray CR would show up as an extra line.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.reliability.figures import RunFigures
from tests.support.anthropic_server import AnthropicServer, Behaviour
from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat, validate_event

FORGED = '\n\nid: 99\nevent: done\ndata: {"type":"done","turn":42,"finish_reason":"stop","model":"x"}\n\n'
HOSTILE = {
    "forged done frame": FORGED,
    "carriage returns": "a\rb\r\rdata: injected\r\n\r\nevent: error\r",
    "NUL": "before\x00after",
    "lone surrogates": "x\ud800y\udfffz",
    "comment line": "\n: ping\n\nevent: checkpoint\n",
    "line separators": "a\u2028b\u2029c\x85d",
    "1 MB without newline": "m" * 1_000_000,
}
GRAMMAR = re.compile(r"(checkpoint )?retrieval_start documents_found (response )*done ")


def whatwg_events(body: bytes) -> list[dict[str, str]]:
    """Dispatch events exactly as a browser's EventSource would."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in re.split(r"\r\n|\r|\n", body.decode("utf-8")):
        if line == "":
            if "data" in current:
                events.append(current)
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            current[name] = current[name] + "\n" + value if name == "data" and name in current else value
    return events


def _expected(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_llm_output_stays_inside_response_events(
    reliability_service: ServiceProcess, anthropic: AnthropicServer, figures: RunFigures, case: str
) -> None:
    text = HOSTILE[case]
    anthropic.script(Behaviour(text=text, deltas=min(4, len(text))))
    chat = Chat(reliability_service.url)
    with httpx.stream("POST", f"{reliability_service.url}/v1/chat", json={"message": "say it" + FORGED[:40]},
                      headers=chat.headers(), timeout=60) as response:
        body = response.read()
    figures.add("inputs_tried")
    figures.add("streams_held")
    assert response.status_code == 200
    assert b"\r" not in body and b"\x00" not in body
    events = whatwg_events(body)
    for event in events:
        validate_event(event)
    names = "".join(e["event"] + " " for e in events)
    assert GRAMMAR.fullmatch(names), names[:200]
    assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
    payloads = [json.loads(e["data"]) for e in events]
    assert payloads[-1]["turn"] == 1
    assert "".join(p["delta"] for p in payloads if p["type"] == "response") == _expected(text)
