"""Summarises a V8 CPU profile of the web app (`node --cpu-prof`) over a window of the run.

The proxy's added latency is the web app's own CPU work, so the report says where that work goes,
as the py-spy summaries do for the Python servers: the share of busy samples with a frame in each
area of the stack, and the frames that hold the most samples themselves. Only samples inside the
measured window count (V8 stamps them with the same monotonic clock as `time.monotonic_ns`), so the
server's start and sign-in are left out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from itertools import accumulate
from pathlib import Path
from typing import Any

__all__ = ["AREAS", "summarise"]

#: Area -> how a frame is recognised (a substring of its script URL, or a V8 pseudo-frame name).
AREAS: Mapping[str, tuple[str, ...]] = {
    "Next.js server (routing, request and response adapters)": ("/node_modules/next/",),
    "the app's bundled server code (route handlers, Auth.js, jose, spec validation)": ("/.next/server/",),
    "Node's HTTP server, sockets and streams": ("node:_http", "node:net", "node:internal/streams",
                                                 "node:internal/http", "node:stream"),
    "fetch to the service (undici)": ("node:internal/deps/undici",),
    "garbage collection": ("(garbage collector)",),
    "V8 and native code outside JavaScript": ("(program)",),
}
_IDLE = "(idle)"


def _area(frame: Mapping[str, Any]) -> str | None:
    url, name = frame.get("url", ""), frame.get("functionName", "")
    for area, marks in AREAS.items():
        if any(mark in url or mark == name for mark in marks):
            return area
    return None


def summarise(path: Path, window_us: tuple[int, int], top: int = 8) -> dict[str, Any]:
    """Shares of the busy samples taken within `window_us` (monotonic microseconds), by area and by frame."""
    profile = json.loads(path.read_text())
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", ())}
    stamps = accumulate(profile["timeDeltas"], initial=profile["startTime"])
    start, end = window_us
    busy: Counter[int] = Counter()
    for node_id, stamp in zip(profile["samples"], list(stamps)[1:], strict=True):
        if start <= stamp <= end and nodes[node_id]["callFrame"]["functionName"] != _IDLE:
            busy[node_id] += 1
    total = sum(busy.values())
    if not total:
        raise ValueError(f"{path.name}: no busy sample inside the measured window")
    areas: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    for node_id, count in busy.items():
        seen: set[str] = set()
        walk: int | None = node_id
        while walk is not None:
            area = _area(nodes[walk]["callFrame"])
            if area is not None:
                seen.add(area)
            walk = parent.get(walk)
        for area in seen:
            areas[area] += count
        frames[_label(nodes[node_id]["callFrame"])] += count
    return {
        "samples": total,
        "areas": {area: round(areas[area] / total, 3) for area in AREAS},
        "top_frames": [{"frame": frame, "share": round(count / total, 3)} for frame, count in frames.most_common(top)],
    }


def _label(frame: Mapping[str, Any]) -> str:
    name = frame.get("functionName") or "(anonymous)"
    url = str(frame.get("url", ""))
    if not url:
        return name
    short = url.rsplit("/node_modules/", 1)[-1] if "/node_modules/" in url else url.rsplit("/", 1)[-1]
    return f"{name} ({short}:{int(frame.get('lineNumber', -1)) + 1})"
