"""Which repository files a `docker build` context sends, given a `.dockerignore` allow-list.

The images are built with the repository root as context and a Dockerfile-specific ignore file
(`infra/<name>.Dockerfile.dockerignore`, which BuildKit prefers to `.dockerignore`). Matching
follows Docker's rules closely enough for these files: the last pattern that matches a path, or
one of its parent directories, decides; `!` re-includes; `*` stays within one path segment and
`**` spans any number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IgnoreRules", "ignore_file_for"]


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    include: bool


class IgnoreRules:
    """The rules of one ignore file; `sends(path)` says whether a context path reaches the build."""

    def __init__(self, text: str) -> None:
        self._rules: list[_Rule] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            pattern = line.removeprefix("!").strip().strip("/")
            self._rules.append(_Rule(re.compile(_to_regex(pattern)), include))

    def sends(self, relative: str) -> bool:
        """Whether the file at this repo-relative POSIX path is part of the build context."""
        parts = relative.strip("/").split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        sent = True
        for rule in self._rules:
            if any(rule.pattern.fullmatch(prefix) for prefix in prefixes):
                sent = rule.include
        return sent

    def sent_files(self, root: Path, source: str) -> list[str]:
        """The files under `root/source` (a file or a directory) that the context would carry."""
        target = root / source
        candidates = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        relative = (p.relative_to(root).as_posix() for p in candidates)
        return [path for path in relative if self.sends(path)]


def ignore_file_for(dockerfile: Path) -> Path:
    """The Dockerfile-specific ignore file BuildKit reads for `-f dockerfile`."""
    return dockerfile.with_name(dockerfile.name + ".dockerignore")


def _to_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)
