"""Compares Spotter at other git revisions with the working tree's, side by side, in one run.

Two `make bench` runs on different hours cannot tell a regression from the machine's variance:
on 2026-11-26 the same code measured 37.0 and 42.7 turns/s at 200 streams in two runs. This
starts the working tree's Spotter, Spotter at each given revision (its `service/` exported with
`git archive` into `bench/.work/ab/`, imported ahead of the installed package through
PYTHONPATH) and the baseline, all on the same index and flags, then runs the throughput load
in rounds whose order rotates, and prints each one's median turns/s and its ratio to the
working tree's::

    .venv/bin/python -m bench.ab HEAD~3 before-batching=89d3051~1 --concurrency 1 200 --rounds 3

A revision must run with this checkout's dependencies (the `.venv`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.run import WORK, BenchFailure, client, log, start_pair
from bench.servers import REPO, Server, built_index, ensure_baseline_venv, raise_fd_limit
from bench.workload import QUESTIONS

__all__ = ["main"]

AB_WORK = WORK / "ab"
WORKING_TREE = "working-tree"


def export_revision(revision: str, into: Path) -> Path:
    """`service/` (and the spec it reads) at `revision`, written under `into`; the folder for PYTHONPATH."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision, "service", "openapi"], cwd=REPO, capture_output=True,
                             check=False)
    if archive.returncode != 0:
        raise BenchFailure(f"git archive {revision}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "service"


def _parse_revisions(values: list[str]) -> dict[str, str]:
    named: dict[str, str] = {}
    for value in values:
        name, _, revision = value.rpartition("=")
        name = name or revision
        if name in named or name in (WORKING_TREE, "baseline"):
            raise SystemExit(f"bench.ab: the name {name!r} is taken; give it another with NAME=REV")
        named[name] = revision
    return named


def _start(index: Path, revisions: dict[str, str], servers: dict[str, Server]) -> None:
    """The working tree's Spotter and the baseline as `make bench` starts them (its answers
    grammar-checked and given to the baseline), then Spotter at each revision with the same
    settings, into `servers` as each starts, so the caller can stop them if one fails."""
    pair, _ = start_pair(index, {}, "ab", len(QUESTIONS))
    servers[WORKING_TREE], servers["baseline"] = pair["spotter"], pair["baseline"]
    for name, revision in revisions.items():
        source = export_revision(revision, AB_WORK / "trees" / name)
        server = Server("spotter", AB_WORK / "revisions" / name, index,
                        {**pair["spotter"].env, "PYTHONPATH": str(source)})
        server.work_dir.mkdir(parents=True, exist_ok=True)
        servers[name] = server
        server.start()


def measure(servers: dict[str, Server], levels: list[int], rounds: int, duration: float) -> dict[str, Any]:
    """turns/s of every server at every level, one 'duration' each per round, order rotating."""
    names = list(servers)
    samples: dict[int, dict[str, list[float]]] = {level: {name: [] for name in names} for level in levels}
    for level in levels:
        for round_number in range(rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                measured = client(servers[name], "throughput", "--concurrency", str(level),
                                  "--duration", str(duration), "--tag", f"ab{round_number}n{names.index(name)}")
                if measured["errors"]:
                    raise BenchFailure(f"{name} at {level} streams: {measured['error_samples']}")
                samples[level][name].append(measured["turns_per_s"])
                log(f"{name:14} c={level:<4} round {round_number + 1}/{rounds} "
                    f"{measured['turns_per_s']:7.1f} turns/s  TTFE p50 {measured['ttfe_ms']['p50']} ms")
    return {str(level): {name: {"turns_per_s": values, "median": statistics.median(values)}
                         for name, values in by_name.items()} for level, by_name in samples.items()}


def table(results: dict[str, Any]) -> str:
    lines = ["| streams | server | median turns/s | rounds | / working tree |", "|---:|---|---:|---|---:|"]
    for level, by_name in results.items():
        reference = by_name[WORKING_TREE]["median"]
        for name, figures in by_name.items():
            rounds = ", ".join(f"{value:.1f}" for value in figures["turns_per_s"])
            lines.append(f"| {level} | {name} | {figures['median']:.1f} | {rounds} | "
                         f"{figures['median'] / reference:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revisions", nargs="+", metavar="[NAME=]REV", help="git revisions to compare")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 200])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per server per round")
    args = parser.parse_args(argv)
    revisions = _parse_revisions(args.revisions)
    raise_fd_limit()
    shutil.rmtree(AB_WORK, ignore_errors=True)
    AB_WORK.mkdir(parents=True)
    servers: dict[str, Server] = {}
    try:
        ensure_baseline_venv()
        _start(built_index(), revisions, servers)
        results = measure(servers, args.concurrency, args.rounds, args.duration)
    except (BenchFailure, RuntimeError) as failure:
        print(f"bench.ab FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        for server in servers.values():
            server.stop()
    (AB_WORK / "results.json").write_text(json.dumps({"revisions": revisions, "levels": results}, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
