"""Compose's `${VAR}` interpolation and `--env-file` reading, so tests can resolve compose.yaml
the way `docker compose` would (no Compose CLI or Docker engine on this machine).

Supports what the Compose Specification defines for values: `$VAR`, `${VAR}`, `${VAR:-default}`,
`${VAR-default}`, `${VAR:?message}`, `${VAR?message}` and `$$` for a literal `$`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

__all__ = ["MissingVariableError", "interpolate", "interpolate_tree", "placeholders", "read_env_file"]

_EXPRESSION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariableError(ValueError):
    """A `${VAR:?message}` (or `?`) whose variable is unset; the message names the variable."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """`value` with every expression replaced using `env`; MissingVariableError for `:?`/`?`."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return arg if current is None else current
        if op in {":?", "?"} and (current is None or (op == ":?" and not current)):
            raise MissingVariableError(f"{name}: {arg}" if arg else name)
        return current or ""

    return _EXPRESSION.sub(replace, value)


def interpolate_tree(node: object, env: Mapping[str, str]) -> object:
    """A copy of a parsed YAML tree with every string value interpolated (keys are left alone)."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    return node


def placeholders(text: str) -> set[str]:
    """The variable names a text refers to (`$$` escapes excluded)."""
    return {m.group("name") or m.group("bare") for m in _EXPRESSION.finditer(text) if not m.group("escaped")}


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of an env file (`#` comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values
