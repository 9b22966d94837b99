"""Breaking changes between two versions of an OpenAPI document, for the release check.

A change breaks existing clients when it removes something they use (a path, an operation, a
field, an enum value, an event type), demands something they do not send (a new required input),
or narrows what they may send (a smaller type, tighter bounds). Schemas are compared where they
are used, with `$ref`s resolved, so a request body and a response that share a component are
each judged by the rules of their direction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["BreakingChange", "breaking_changes", "major_version", "release_blockers"]

Direction = Literal["input", "output"]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace", "query")
# Bounds that shrink what an input may be when they grow (lower bounds) or shrink (upper bounds).
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


@dataclass(frozen=True, slots=True)
class BreakingChange:
    """Where (a JSON-pointer-like location) and what broke."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def major_version(spec: Mapping[str, Any]) -> int:
    """The major part of `info.version` (semantic versioning)."""
    return int(str(spec["info"]["version"]).split(".")[0])


def release_blockers(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[BreakingChange]:
    """Breaking changes, unless `info.version`'s major part went up (then none block)."""
    if major_version(new) > major_version(old):
        return []
    return breaking_changes(old, new)


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[BreakingChange]:
    """Every change from `old` to `new` that breaks a client written against `old`."""
    return list(_Differ(old, new).paths())


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if "integer" in types:
        return types
    return types | ({"integer"} if "number" in types else set())


class _Differ:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old = old
        self.new = new

    def _resolve(self, document: Mapping[str, Any], node: Any) -> Any:
        seen = 0
        while isinstance(node, Mapping) and "$ref" in node and seen < 50:
            target: Any = document
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
        return node

    def paths(self) -> Iterator[BreakingChange]:
        old_paths, new_paths = self.old.get("paths", {}), self.new.get("paths", {})
        for path, old_item in old_paths.items():
            if path not in new_paths:
                yield BreakingChange(f"paths.{path}", "path removed")
                continue
            new_item = new_paths[path]
            for method in METHODS:
                if method not in old_item:
                    continue
                where = f"{method.upper()} {path}"
                if method not in new_item:
                    yield BreakingChange(where, "operation removed")
                    continue
                yield from self._operation(where, old_item, new_item, method)

    def _parameters(self, document: Mapping[str, Any], item: Mapping[str, Any], operation: Mapping[str, Any]
                    ) -> dict[tuple[str, str], Mapping[str, Any]]:
        found: dict[tuple[str, str], Mapping[str, Any]] = {}
        for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
            parameter = self._resolve(document, raw)
            name = parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]
            found[(parameter["in"], name)] = parameter
        return found

    def _operation(self, where: str, old_item: Mapping[str, Any], new_item: Mapping[str, Any], method: str
                   ) -> Iterator[BreakingChange]:
        old_op, new_op = old_item[method], new_item[method]
        old_params = self._parameters(self.old, old_item, old_op)
        new_params = self._parameters(self.new, new_item, new_op)
        for key, parameter in new_params.items():
            label = f"{where} {key[0]} parameter {parameter['name']}"
            if parameter.get("required") and (key not in old_params or not old_params[key].get("required")):
                yield BreakingChange(label, "newly required input")
        for key, parameter in old_params.items():
            label = f"{where} {key[0]} parameter {parameter['name']}"
            if key not in new_params:
                yield BreakingChange(label, "parameter removed")
                continue
            yield from self._schema(label, parameter.get("schema", {}), new_params[key].get("schema", {}), "input")
        yield from self._request_body(where, old_op.get("requestBody"), new_op.get("requestBody"))
        old_responses, new_responses = old_op.get("responses", {}), new_op.get("responses", {})
        for status, old_raw in old_responses.items():
            if status not in new_responses:
                if str(status).startswith("2"):
                    yield BreakingChange(f"{where} response {status}", "success response removed")
                continue
            yield from self._content(f"{where} response {status}", self._resolve(self.old, old_raw),
                                     self._resolve(self.new, new_responses[status]), "output")

    def _request_body(self, where: str, old_raw: Any, new_raw: Any) -> Iterator[BreakingChange]:
        if new_raw is None:
            return
        new_body = self._resolve(self.new, new_raw)
        if old_raw is None:
            if new_body.get("required"):
                yield BreakingChange(f"{where} request body", "newly required input")
            return
        old_body = self._resolve(self.old, old_raw)
        if new_body.get("required") and not old_body.get("required"):
            yield BreakingChange(f"{where} request body", "newly required input")
        yield from self._content(f"{where} request body", old_body, new_body, "input")

    def _content(self, where: str, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction
                 ) -> Iterator[BreakingChange]:
        old_content, new_content = old.get("content", {}), new.get("content", {})
        for media, old_media in old_content.items():
            if media not in new_content:
                yield BreakingChange(f"{where} {media}", "media type removed")
                continue
            for key in ("schema", "itemSchema"):
                if key in old_media:
                    yield from self._schema(f"{where} {media} {key}", old_media[key],
                                            new_content[media].get(key, {}), direction)

    def _schema(self, where: str, old_raw: Any, new_raw: Any, direction: Direction, depth: int = 0
                ) -> Iterator[BreakingChange]:
        if depth > 40:
            return
        old, new = self._resolve(self.old, old_raw), self._resolve(self.new, new_raw)
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            return
        old_types, new_types = _types(old), _types(new)
        if old_types is not None and new_types is not None:
            if direction == "input" and not old_types <= new_types:
                yield BreakingChange(where, f"type narrowed from {sorted(old_types)} to {sorted(new_types)}")
            if direction == "output" and not new_types <= old_types:
                yield BreakingChange(where, f"type widened from {sorted(old_types)} to {sorted(new_types)}")
        elif old_types is None and new_types is not None and direction == "input":
            yield BreakingChange(where, f"type narrowed from any to {sorted(new_types)}")
        if "enum" in old:
            removed = [value for value in old["enum"] if value not in new.get("enum", old["enum"])]
            if removed:
                yield BreakingChange(where, f"enum values removed: {removed}")
        if "const" in old and "const" in new and old["const"] != new["const"]:
            yield BreakingChange(where, f"const changed from {old['const']!r} to {new['const']!r}")
        if direction == "input":
            yield from self._bounds(where, old, new)
        yield from self._properties(where, old, new, direction, depth)
        for key in ("items", "contentSchema", "additionalProperties"):
            if isinstance(old.get(key), Mapping) and isinstance(new.get(key), Mapping):
                yield from self._schema(f"{where}.{key}", old[key], new[key], direction, depth + 1)
        for key in ("oneOf", "anyOf", "allOf"):
            yield from self._branches(f"{where}.{key}", old.get(key, []), new.get(key, []), direction, depth)

    def _bounds(self, where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[BreakingChange]:
        for key in _LOWER:
            if key in new and (key not in old or new[key] > old[key]):
                yield BreakingChange(where, f"{key} raised to {new[key]}")
        for key in _UPPER:
            if key in new and (key not in old or new[key] < old[key]):
                yield BreakingChange(where, f"{key} lowered to {new[key]}")
        if "pattern" in new and new.get("pattern") != old.get("pattern"):
            yield BreakingChange(where, f"pattern changed to {new['pattern']!r}")
        if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
            yield BreakingChange(where, "additional properties no longer allowed")

    def _properties(self, where: str, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction,
                    depth: int) -> Iterator[BreakingChange]:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in old_props:
            if name not in new_props:
                if direction == "output" or new.get("additionalProperties") is False:
                    yield BreakingChange(f"{where}.{name}", "field removed")
                continue
            yield from self._schema(f"{where}.{name}", old_props[name], new_props[name], direction, depth + 1)
        if direction == "input":
            for name in sorted(new_required - old_required):
                yield BreakingChange(f"{where}.{name}", "newly required input")
        else:
            for name in sorted(old_required - new_required):
                yield BreakingChange(f"{where}.{name}", "no longer always present")

    def _branches(self, where: str, old: list[Any], new: list[Any], direction: Direction, depth: int
                  ) -> Iterator[BreakingChange]:
        def key(branch: Any, index: int) -> str:
            return str(branch["$ref"]) if isinstance(branch, Mapping) and "$ref" in branch else f"#{index}"

        new_by_key = {key(branch, index): branch for index, branch in enumerate(new)}
        for index, branch in enumerate(old):
            name = key(branch, index)
            if name not in new_by_key:
                yield BreakingChange(f"{where}[{name}]", "alternative removed")
                continue
            yield from self._schema(f"{where}[{name}]", branch, new_by_key[name], direction, depth + 1)
