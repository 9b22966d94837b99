"""What tests observe from outside: the loopback LLM's last request and the service's /metrics."""

from __future__ import annotations

import httpx

from tests.support.anthropic_server import AnthropicServer
from tests.support.service_process import ServiceProcess

__all__ = ["llm_messages", "metric"]


def llm_messages(server: AnthropicServer) -> list[tuple[str, str]]:
    """(role, text) of the last request the loopback LLM received."""
    body = server.requests[-1].body
    result = []
    for message in body["messages"]:
        content = message["content"]
        text = content if isinstance(content, str) else "".join(block["text"] for block in content)
        result.append((message["role"], text))
    return result


def metric(service: ServiceProcess, name: str) -> float:
    for line in httpx.get(f"{service.url}/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")
