"""Reads a Dockerfile into stages and instructions, so tests can check and run what it says.

Covers the syntax Spotter's Dockerfiles use: comments, `\\` continuations, `FROM ... AS name`,
flags (`--from=`, `--interval=`), exec-form JSON arrays and `ENV key=value` pairs. It is not a
general Dockerfile parser; hadolint is the linter.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Instruction", "Stage", "expand", "parse_dockerfile"]

_FLAG = re.compile(r"\s*--([a-z-]+)=(\S+)")
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction: its upper-case keyword, its argument text and the line it starts on."""

    keyword: str
    arguments: str
    line: int

    def flags(self) -> dict[str, str]:
        """Leading `--name=value` flags (`COPY --from=build`, `HEALTHCHECK --interval=30s`)."""
        found: dict[str, str] = {}
        rest = self.arguments
        while match := _FLAG.match(rest):
            found[match.group(1)] = match.group(2)
            rest = rest[match.end() :]
        return found

    def without_flags(self) -> str:
        """The arguments after any leading flags."""
        rest = self.arguments
        while match := _FLAG.match(rest):
            rest = rest[match.end() :]
        return rest.strip()

    def exec_form(self) -> list[str]:
        """The JSON-array (exec) form after flags; ValueError if this is shell form."""
        text = self.without_flags()
        if self.keyword == "HEALTHCHECK":
            if not text.startswith("CMD "):
                raise ValueError(f"line {self.line}: HEALTHCHECK without CMD")
            text = text.removeprefix("CMD ").strip()
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"line {self.line}: {self.keyword} is not in exec form: {text}") from None
        if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
            raise ValueError(f"line {self.line}: {self.keyword} exec form must be a list of strings")
        return value


@dataclass(frozen=True, slots=True)
class Stage:
    """A build stage: its base image, its `AS` name and its instructions after FROM."""

    base: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def every(self, keyword: str) -> list[Instruction]:
        """Every instruction with this keyword, in order."""
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        """The effective (last) instruction with this keyword; LookupError if there is none."""
        found = self.every(keyword)
        if not found:
            raise LookupError(f"stage {self.name or self.base} has no {keyword}")
        return found[-1]

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The variables the stage's ENV instructions set, `$VAR` expanded against `base`."""
        env = dict(base or {})
        for instruction in self.every("ENV"):
            for pair in shlex.split(instruction.arguments):
                key, sep, value = pair.partition("=")
                if not sep:
                    raise ValueError(f"line {instruction.line}: use ENV key=value")
                env[key] = expand(value, env)
        return env


def expand(text: str, env: Mapping[str, str]) -> str:
    """Replace `$VAR` and `${VAR}` with their values (empty when unset), as Docker does."""
    return _VARIABLE.sub(lambda m: env.get(m.group("braced") or m.group("bare"), ""), text)


def parse_dockerfile(path: Path) -> list[Stage]:
    """The stages of the Dockerfile at `path`, in order."""
    stages: list[Stage] = []
    current: tuple[str, str | None] | None = None
    body: list[Instruction] = []
    for line_number, text in _logical_lines(path.read_text()):
        keyword, _, arguments = text.partition(" ")
        keyword = keyword.upper()
        arguments = arguments.strip()
        if keyword == "FROM":
            if current is not None:
                stages.append(Stage(current[0], current[1], tuple(body)))
            words = [w for w in arguments.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            current, body = (words[0], name), []
        elif current is None:
            if keyword != "ARG":
                raise ValueError(f"{path}:{line_number}: {keyword} before FROM")
        else:
            body.append(Instruction(keyword, arguments, line_number))
    if current is not None:
        stages.append(Stage(current[0], current[1], tuple(body)))
    return stages


def _logical_lines(source: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(source.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments may sit inside a continued instruction, as Docker allows
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        lines.append((start, " ".join(pending)))
        pending = []
    if pending:
        lines.append((start, " ".join(pending)))
    return lines
