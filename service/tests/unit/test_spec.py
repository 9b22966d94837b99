"""The hand-written spec is valid 3.2, its examples match their schemas, and the 3.1 copy is valid 3.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, OpenAPIV32SpecValidator

from spotter.spec import derive_openapi_31, load_spec

SPEC = load_spec()


def test_spec_is_valid_openapi_3_2() -> None:
    assert SPEC["openapi"] == "3.2.0"
    errors = [e.message for e in OpenAPIV32SpecValidator(SPEC).iter_errors()]
    assert errors == []


def test_derived_copy_is_valid_openapi_3_1_and_keeps_every_named_schema() -> None:
    derived = derive_openapi_31(SPEC)
    assert derived["openapi"].startswith("3.1")
    assert [e.message for e in OpenAPIV31SpecValidator(derived).iter_errors()] == []
    assert derived["components"]["schemas"].keys() == SPEC["components"]["schemas"].keys()
    assert "itemSchema" not in _keys(derived)
    stream = derived["paths"]["/v1/chat"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    assert stream["x-spotter-item-schema"] == {"$ref": "#/components/schemas/ChatStreamEvent"}


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node).union(*(_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(v) for v in node))
    return set()


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _examples(node: Any, path: str = "#") -> Iterator[tuple[str, Any, Any]]:
    """(where, schema, example) for every `example`/`examples` beside a schema in the document."""
    if isinstance(node, dict):
        schema = node.get("schema")
        if "example" in node:
            if schema is not None:
                yield path, schema, node["example"]
            elif node.get("type") or "properties" in node or "allOf" in node:
                yield path, {k: v for k, v in node.items() if k != "example"}, node["example"]
        if schema is not None and isinstance(node.get("examples"), dict):
            for name, example in node["examples"].items():
                yield f"{path}/examples/{name}", schema, _resolve(example)["value"]
        for key, value in node.items():
            yield from _examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{path}/{index}")


# Event-stream examples are whole streams (text), checked by the stream tests instead.
EXAMPLES = [item for item in _examples(SPEC) if "text/event-stream" not in item[0]]


def test_there_are_examples_for_every_request_body() -> None:
    for path_item in SPEC["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                content = operation["requestBody"]["content"]["application/json"]
                assert "example" in content, operation["operationId"]


@pytest.mark.parametrize(("where", "schema", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_matches_its_schema(where: str, schema: Any, example: Any) -> None:
    document = {**SPEC, **_resolve(schema)} if isinstance(schema, dict) else schema
    if isinstance(schema, dict) and schema.get("type") == "string" and isinstance(example, str):
        return  # plain-text bodies (metrics, YAML documents)
    validator = jsonschema.Draft202012Validator(
        document, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [e.message for e in validator.iter_errors(example)]
    assert errors == [], where
