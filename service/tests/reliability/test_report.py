"""The report renderer keeps the prose and replaces only the figures block."""

from __future__ import annotations

from tests.reliability.report import BEGIN, END, update_document

RESULTS = {
    "run": {"finished_at": "2026-01-01T00:00:00Z", "soak": False, "seconds": 12.5, "outcomes": {"passed": 3}},
    "figures": {"streams_held": 1200, "turns_lost": 0},
}


def test_only_the_block_between_the_markers_changes() -> None:
    document = f"intro\n{BEGIN}\nold table\n{END}\noutro\n"
    updated = update_document(document, RESULTS)
    assert updated.startswith(f"intro\n{BEGIN}\nLast run: 2026-01-01T00:00:00Z, `make test` size, 12.5 s")
    assert "| Chat streams opened against real services | 1,200 |" in updated
    assert "| Turns lost (must be 0) | 0 |" in updated
    assert "old table" not in updated and updated.endswith(f"{END}\noutro\n")
