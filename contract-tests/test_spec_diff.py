"""The breaking-change differ on small hand-made spec pairs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from spotter_contract.spec_diff import breaking_changes, release_blockers

THING = {"$ref": "#/components/schemas/Thing"}


def spec(version: str = "1.0.0") -> dict[str, Any]:
    return {
        "openapi": "3.2.0",
        "info": {"title": "t", "version": version},
        "paths": {
            "/v1/things": {
                "get": {
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
                    "responses": {"200": {"content": {"application/json": {"schema": THING}}}},
                },
                "post": {
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/ThingInput"}}}},
                    "responses": {"201": {"content": {"application/json": {"schema": THING}}}},
                },
            },
            "/v1/stream": {"post": {"responses": {"200": {"content": {"text/event-stream": {"itemSchema": {
                "oneOf": [{"$ref": "#/components/schemas/Hello"}, {"$ref": "#/components/schemas/Bye"}]}}}}}}},
        },
        "components": {"schemas": {
            "Thing": {"type": "object", "required": ["id", "kind"], "properties": {
                "id": {"type": "string"}, "kind": {"type": "string", "enum": ["a", "b"]}, "note": {"type": "string"}}},
            "ThingInput": {"type": "object", "required": ["kind"], "additionalProperties": False, "properties": {
                "kind": {"type": "string", "enum": ["a", "b"]}, "note": {"type": "string", "maxLength": 100},
                "count": {"type": "number"}}},
            "Hello": {"type": "object", "properties": {"event": {"const": "hello"}}},
            "Bye": {"type": "object", "properties": {"event": {"const": "bye"}}},
        }},
    }


def changed(edit: Any) -> list[str]:
    new = spec()
    edit(new)
    return [str(change) for change in breaking_changes(spec(), new)]


def test_identical_specs_have_no_breaking_change() -> None:
    assert breaking_changes(spec(), spec()) == []


def test_additions_do_not_break() -> None:
    def add(s: dict[str, Any]) -> None:
        s["paths"]["/v1/new"] = {"get": {"responses": {"200": {}}}}
        s["components"]["schemas"]["Thing"]["properties"]["extra"] = {"type": "string"}
        s["components"]["schemas"]["ThingInput"]["properties"]["kind"]["enum"].append("c")
        s["paths"]["/v1/things"]["get"]["parameters"].append({"name": "q", "in": "query", "schema": {"type": "string"}})
        s["components"]["schemas"]["ThingInput"]["properties"]["note"]["maxLength"] = 200
    assert changed(add) == []


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda s: s["paths"].pop("/v1/stream"), "path removed"),
    (lambda s: s["paths"]["/v1/things"].pop("post"), "POST /v1/things: operation removed"),
    (lambda s: s["components"]["schemas"]["Thing"]["properties"].pop("note"), "note: field removed"),
    (lambda s: s["components"]["schemas"]["Thing"]["required"].remove("kind"), "kind: no longer always present"),
    (lambda s: s["components"]["schemas"]["ThingInput"]["properties"]["kind"]["enum"].remove("b"),
     "enum values removed: ['b']"),
    (lambda s: s["components"]["schemas"]["ThingInput"]["required"].append("note"), "note: newly required input"),
    (lambda s: s["paths"]["/v1/things"]["get"]["parameters"][0].update(required=True),
     "query parameter limit: newly required input"),
    (lambda s: s["paths"]["/v1/things"]["get"]["parameters"].append(
        {"name": "X-Key", "in": "header", "required": True, "schema": {"type": "string"}}), "newly required input"),
    (lambda s: s["components"]["schemas"]["ThingInput"]["properties"]["count"].update(type="integer"),
     "type narrowed from ['integer', 'number'] to ['integer']"),
    (lambda s: s["components"]["schemas"]["ThingInput"]["properties"]["note"].update(maxLength=10),
     "maxLength lowered to 10"),
    (lambda s: s["paths"]["/v1/things"]["get"]["parameters"][0]["schema"].update(maximum=50), "maximum lowered to 50"),
    (lambda s: s["components"]["schemas"]["Thing"]["properties"]["id"].update(type=["string", "null"]),
     "type widened"),
    (lambda s: s["paths"]["/v1/stream"]["post"]["responses"]["200"]["content"]["text/event-stream"]["itemSchema"][
        "oneOf"].pop(), "alternative removed"),
    (lambda s: s["components"]["schemas"]["Bye"]["properties"].pop("event"), "event: field removed"),
    (lambda s: s["paths"]["/v1/things"]["get"]["responses"].pop("200"), "success response removed"),
])
def test_breaking_changes_are_found(edit: Any, expected: str) -> None:
    found = changed(edit)
    assert any(expected in change for change in found), found


def test_a_request_only_field_may_go_while_unknown_fields_were_allowed() -> None:
    def drop(s: dict[str, Any]) -> None:
        schema = s["components"]["schemas"]["ThingInput"]
        schema.pop("additionalProperties")
        schema["properties"].pop("note")
    old = copy.deepcopy(spec())
    old["components"]["schemas"]["ThingInput"].pop("additionalProperties")
    new = spec()
    drop(new)
    assert breaking_changes(old, new) == []


def test_a_major_version_bump_releases_breaking_changes() -> None:
    new = spec("2.0.0")
    new["paths"].pop("/v1/stream")
    assert release_blockers(spec(), new) == []
    new["info"]["version"] = "1.1.0"
    assert [str(c) for c in release_blockers(spec(), new)] == ["paths./v1/stream: path removed"]
