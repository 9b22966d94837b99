"""Service and spec bugs the contract run found and that are still open, each kept as narrow as possible.

While a bug is open, the run steps around exactly that bug (it drops the cases that trigger it,
or skips one built-in check on the operations it affects) and `test_known_service_bugs.py`
reproduces it as a strict xfail. When the bug is fixed the reproducer passes, strict xfail turns
that into a failure, and the entry here must be deleted, which restores the full check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemathesis import Case
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario

__all__ = ["KNOWN_BUGS", "KnownBug", "case_is_blocked_by_a_known_bug", "checks_excluded_for", "is_ignored_http_noise"]


@dataclass(frozen=True)
class KnownBug:
    """One open bug: what it is, which operations it touches, and how the run steps around it."""

    key: str
    summary: str
    operations: frozenset[str]
    excluded_check: Callable[..., Any] | None = None
    blocks_case: Callable[[Case[Any]], bool] | None = None


#: None open. A finding that cannot be fixed at once gets an entry here and a strict xfail reproducer.
KNOWN_BUGS: tuple[KnownBug, ...] = ()


def checks_excluded_for(operation_label: str) -> list[Callable[..., Any]]:
    """Built-in checks skipped for this operation while a known bug is open."""
    return [
        bug.excluded_check
        for bug in KNOWN_BUGS
        if bug.excluded_check is not None and operation_label in bug.operations
    ]


def case_is_blocked_by_a_known_bug(case: Case[Any]) -> bool:
    """Whether `case` would only re-find an open bug."""
    label = case.operation.label
    return any(
        bug.blocks_case is not None and label in bug.operations and bug.blocks_case(case) for bug in KNOWN_BUGS
    )


def is_ignored_http_noise(case: Case[Any]) -> bool:
    """Coverage cases whose only negation is an unknown header (RFC 9110 s5.1: recipients ignore those).

    schemathesis 4.32 re-validates such a case with header values as sent (strings), so an integer
    header like `X-Conversation-Turn: 0` looks invalid and the accepted request is reported as
    "schema-violating request accepted". Not a Spotter bug: a false positive of the tool.
    """
    meta = case.meta
    if meta is None or not isinstance(meta.phase.data, CoveragePhaseData):
        return False
    data = meta.phase.data
    return data.scenario == CoverageScenario.OBJECT_UNEXPECTED_PROPERTIES and data.parameter_location is not None \
        and data.parameter_location.value == "header"
