"""The spec may not break clients of the last release unless `info.version`'s major part went up."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from spotter_contract.contract_schema import SPEC_PATH
from spotter_contract.spec_diff import release_blockers

REPO = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).resolve().parent / "baseline" / "openapi.yaml"


def _last_release() -> tuple[str, dict[str, Any]]:
    """(label, spec) of the newest `v*` tag, or of the committed baseline when there is no tag."""
    tags = subprocess.run(
        ["git", "tag", "-l", "v*", "--sort=-version:refname"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.split()
    for tag in tags:
        shown = subprocess.run(
            ["git", "show", f"{tag}:openapi/openapi.yaml"], cwd=REPO, capture_output=True, check=False
        )
        if shown.returncode == 0:
            return tag, yaml.safe_load(shown.stdout)
    return str(BASELINE.relative_to(REPO)), yaml.safe_load(BASELINE.read_bytes())


def test_spec_keeps_every_promise_of_the_last_release() -> None:
    label, released = _last_release()
    current = yaml.safe_load(SPEC_PATH.read_bytes())
    blockers = release_blockers(released, current)
    assert not blockers, (
        f"openapi/openapi.yaml breaks clients of {label} (info.version {released['info']['version']} -> "
        f"{current['info']['version']}); bump the major version or undo:\n" + "\n".join(map(str, blockers))
    )
