"""The hand-written OpenAPI 3.2 document, and the 3.1 copy derived from it for code generators.

Generators (openapi-typescript, hey-api, openapi-python-client) refuse 3.2, so Spotter derives a
3.1 copy instead of maintaining two files. What the conversion drops is listed in `DROPPED_IN_31`
and in the README: event payloads stay typed because they are named `components/schemas`.
"""

from __future__ import annotations

import argparse
import copy
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DROPPED_IN_31",
    "derive_openapi_31",
    "load_spec",
    "main",
    "openapi_31_bytes",
    "spec_bytes",
    "spec_path",
]

DROPPED_IN_31 = (
    "`itemSchema` on `text/event-stream` responses: 3.1 has no per-event schema, so the stream "
    "becomes `schema: {type: string}` and the event union is named in `x-spotter-item-schema` "
    "(every event and payload schema stays in `components/schemas`)",
    "`servers[].variables` are kept; `info.summary` and `license.identifier` are valid 3.1",
)


def spec_path() -> Path:
    """The bundled 3.2 document: inside the wheel when installed, `openapi/` in a checkout."""
    packaged = resources.files("spotter").joinpath("_spec/openapi.yaml")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"


@cache
def spec_bytes() -> bytes:
    """The 3.2 document exactly as written (served at `/openapi.yaml`)."""
    return spec_path().read_bytes()


@cache
def load_spec() -> dict[str, Any]:
    """The 3.2 document parsed; treat it as read-only."""
    loaded: dict[str, Any] = yaml.safe_load(spec_bytes())
    return loaded


def derive_openapi_31(spec: dict[str, Any]) -> dict[str, Any]:
    """A 3.1 copy of `spec`: same paths and named schemas, streams typed by reference only."""
    derived = copy.deepcopy(spec)
    derived["openapi"] = "3.1.1"
    for path_item in derived.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                for media_type, content in response.get("content", {}).items():
                    item_schema = content.pop("itemSchema", None)
                    if item_schema is not None:
                        content["schema"] = {
                            "type": "string",
                            "description": f"A {media_type} stream; each event is one of "
                            "x-spotter-item-schema.",
                        }
                        content["x-spotter-item-schema"] = item_schema
    return derived


@cache
def openapi_31_bytes() -> bytes:
    """The derived 3.1 document as YAML (served at `/openapi-3.1.yaml`)."""
    return yaml.safe_dump(derive_openapi_31(load_spec()), sort_keys=False, allow_unicode=True).encode()


def main(argv: list[str] | None = None) -> int:
    """`python -m spotter.spec --out DIR`: write openapi.yaml and openapi-3.1.yaml into DIR."""
    parser = argparse.ArgumentParser(prog="python -m spotter.spec", description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path("build"))
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "openapi.yaml").write_bytes(spec_bytes())
    (out / "openapi-3.1.yaml").write_bytes(openapi_31_bytes())
    print(f"wrote {out / 'openapi.yaml'} and {out / 'openapi-3.1.yaml'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
