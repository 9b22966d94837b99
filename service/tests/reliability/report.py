"""Renders the last run's figures (`build/reliability.json`) into docs/reliability.md.

    cd service && ../.venv/bin/python -m tests.reliability.report

Only the block between the two markers is replaced, so the prose around it is kept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.reliability.figures import FIGURES, REPO_ROOT, RESULTS_PATH

__all__ = ["BEGIN", "END", "render", "table", "update_document"]

DOCUMENT = REPO_ROOT / "docs" / "reliability.md"
BEGIN = "<!-- figures:begin (python -m tests.reliability.report) -->"
END = "<!-- figures:end -->"
MUST_BE_ZERO = ("turns_lost", "duplicate_turns", "responses_500", "cross_user_reads", "leaked_tasks_or_connections")


def render(results: dict[str, Any]) -> str:
    """The figures table and a line about the run that produced it."""
    run, figures = results["run"], results["figures"]
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in run["outcomes"].items())
    mode = "`make soak` (x10)" if run["soak"] else "`make test` size"
    return f"Last run: {run['finished_at']}, {mode}, {run['seconds']} s, tests: {outcomes}.\n\n{table(figures)}"


def table(figures: dict[str, int]) -> str:
    """The figures as the Markdown table of docs/reliability.md (the soak prints the same)."""
    lines = ["| Figure | Count |", "|---|---:|"]
    for name, label in FIGURES.items():
        value = figures.get(name, 0)
        flag = " (must be 0)" if name in MUST_BE_ZERO else ""
        lines.append(f"| {label[0].upper() + label[1:]}{flag} | {value:,} |")
    return "\n".join(lines)


def update_document(document: str, results: dict[str, Any]) -> str:
    """`document` with the text between the markers replaced by the rendered figures."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest:
        raise ValueError(f"{DOCUMENT} has no {BEGIN!r} marker")
    return f"{head}{BEGIN}\n{render(results)}\n{END}{tail}"


def main(results_path: Path = RESULTS_PATH, document: Path = DOCUMENT) -> int:
    results = json.loads(results_path.read_text(encoding="utf-8"))
    document.write_text(update_document(document.read_text(encoding="utf-8"), results), encoding="utf-8")
    print(f"wrote the figures of {results['run']['finished_at']} into {document}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
