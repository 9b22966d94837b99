"""Runs every benchmark against Spotter and the baseline in one go and writes docs/benchmarks.md.

`python -m bench.run` (what `make bench` runs) takes about ten minutes; `--smoke` runs a
seconds-long version of each phase for `make test`: both servers, the spec grammar check on every
frame, equal answers, a short load, the web app's proxy in front of Spotter, open streams, memory
and retrieval. Any failure exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import profile, proxy_cost
from bench.retrieval_cost import measure_retrieval, vector_agreement
from bench.servers import (
    BASELINE_PYTHON,
    REPO,
    Server,
    built_index,
    ensure_baseline_venv,
    raise_fd_limit,
)
from bench.workload import CLIENT_CORE, QUESTIONS, SCALE_HEARTBEAT_SECONDS, SCALE_PACING_SECONDS

__all__ = ["Plan", "main"]

WORK = REPO / "bench" / ".work"
SIDES = ("spotter", "baseline")


class BenchFailure(RuntimeError):
    """Something the benchmark relies on is broken; the run stops loudly."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How big each phase is."""

    concurrency: tuple[int, ...]
    duration: float
    profile_seconds: float
    scale_streams: int
    scale_rate: float
    scale_hold: float
    scale_pacing: float
    scale_heartbeat: float
    memory_count: int
    sweep_total: int
    sweep_rate: float
    sweep_ttl: float
    retrieval_sizes: tuple[int, ...]
    retrieval_queries: int
    validate_questions: int
    proxy_concurrency: tuple[int, ...]
    proxy_duration: float
    proxy_refusals: int
    proxy_profile_seconds: float


FULL = Plan(concurrency=(1, 50, 200), duration=15.0, profile_seconds=8.0, scale_streams=5000, scale_rate=20.0,
            scale_hold=20.0, scale_pacing=SCALE_PACING_SECONDS, scale_heartbeat=SCALE_HEARTBEAT_SECONDS,
            memory_count=5000, sweep_total=100_000, sweep_rate=2000.0, sweep_ttl=10.0,
            retrieval_sizes=(1000, 10_000, 100_000), retrieval_queries=200, validate_questions=len(QUESTIONS),
            proxy_concurrency=(1, 20), proxy_duration=20.0, proxy_refusals=200, proxy_profile_seconds=10.0)
SMOKE = Plan(concurrency=(1, 8), duration=1.5, profile_seconds=0, scale_streams=40, scale_rate=200.0,
             scale_hold=1.5, scale_pacing=0.6, scale_heartbeat=0.25, memory_count=200, sweep_total=1000,
             sweep_rate=1000.0, sweep_ttl=0.5, retrieval_sizes=(1000,), retrieval_queries=5, validate_questions=2,
             proxy_concurrency=(1, 4), proxy_duration=1.5, proxy_refusals=10, proxy_profile_seconds=1.5)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def client(server: Server, mode: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run the load client in its own process on the client core; its JSON answer."""
    command = ["taskset", "-c", str(CLIENT_CORE), sys.executable, "-m", "bench.load_client", mode,
               "--port", str(server.port), *args]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise BenchFailure(f"load client {mode} against {server.kind} failed:\n{done.stderr[-3000:]}\n"
                           f"server log:\n{server.logs()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def start_pair(index: Path, env: dict[str, str], name: str, validate_questions: int, answers: Path | None = None
               ) -> tuple[dict[str, Server], dict[str, Any]]:
    """Spotter, its answers (recorded and grammar-checked unless given), then the baseline."""
    pacing = env.get("pacing", "0")
    heartbeat = env.get("heartbeat", "15")
    spotter = Server("spotter", WORK / name / "spotter", index, {
        "SPOTTER_OFFLINE_TOKEN_DELAY_SECONDS": pacing, "SPOTTER_HEARTBEAT_SECONDS": heartbeat})
    spotter.work_dir.mkdir(parents=True, exist_ok=True)
    spotter.start()
    try:
        checked: dict[str, Any] = {}
        if answers is None:
            checked = client(spotter, "check", "--validate-questions", str(validate_questions))
            if checked["problems"]:
                raise BenchFailure("Spotter's stream breaks the grammar:\n" + "\n".join(checked["problems"][:20]))
            answers = WORK / "answers.json"
            answers.write_text(json.dumps(checked["answers"]))
        baseline = Server("baseline", WORK / name / "baseline", index, {
            "BASELINE_TOKEN_DELAY_SECONDS": pacing, "BASELINE_HEARTBEAT_SECONDS": heartbeat,
            "BASELINE_ANSWERS": str(answers)})
        baseline.work_dir.mkdir(parents=True, exist_ok=True)
        baseline.start()
    except BaseException:
        spotter.stop()
        raise
    return {"spotter": spotter, "baseline": baseline}, checked


def check_grammar(servers: dict[str, Server], spotter: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """The baseline's conversations against the spec too, and its answers equal to Spotter's."""
    baseline = client(servers["baseline"], "check", "--validate-questions", str(plan.validate_questions))
    problems = [f"baseline: {p}" for p in baseline["problems"]]
    if spotter["answers"] != baseline["answers"]:
        problems.append("the baseline streamed different answers from Spotter's")
    if problems:
        raise BenchFailure("grammar check failed:\n" + "\n".join(problems[:20]))
    deltas = {q: len(d) for q, d in spotter["answers"].items()}
    log(f"grammar check: {spotter['frames_checked']} + {baseline['frames_checked']} frames valid, answers equal")
    return {"frames_checked": spotter["frames_checked"] + baseline["frames_checked"], "deltas_per_answer": deltas}


def throughput(servers: dict[str, Server], plan: Plan, results: dict[str, Any]) -> None:
    rows = []
    for level_index, concurrency in enumerate(plan.concurrency):
        order = SIDES if level_index % 2 == 0 else SIDES[::-1]  # neither side always goes first
        row: dict[str, Any] = {"concurrency": concurrency}
        for side in order:
            measured = client(servers[side], "throughput", "--concurrency", str(concurrency),
                              "--duration", str(plan.duration), "--tag", f"{side[:1]}{concurrency}")
            if measured["errors"]:
                raise BenchFailure(f"{side} at {concurrency} streams: {measured['error_samples']}")
            row[side] = measured
            log(f"{side:8} c={concurrency:<4} {measured['turns_per_s']:8.1f} turns/s "
                f"{measured['events_per_s']:9.0f} events/s  TTFE p50 {measured['ttfe_ms']['p50']} ms")
        rows.append(row)
    results["throughput"] = rows


def profile_under_load(servers: dict[str, Server], plan: Plan, results: dict[str, Any]) -> None:
    py_spy = BASELINE_PYTHON.parent / "py-spy"
    concurrency = max(plan.concurrency)
    profiles: dict[str, Any] = {}
    for side in SIDES:
        raw = WORK / f"profile-{side}.txt"
        sampler = profile.record(py_spy, servers[side].pid, plan.profile_seconds, raw)
        client(servers[side], "throughput", "--concurrency", str(concurrency),
               "--duration", str(plan.profile_seconds + 1), "--tag", f"p{side[:1]}")
        sampler.wait(60)
        profiles[side] = profile.summarize(raw) if raw.exists() else {"samples": 0, "own": [], "areas": {}}
        log(f"profiled {side}: {profiles[side]['samples']} samples")
    results["profile"] = {"concurrency": concurrency, **profiles}


def proxy(spotter: Server, plan: Plan, results: dict[str, Any]) -> None:
    """TTFE straight to Spotter against through the web app's proxy (bench/proxy_cost.py)."""
    if not proxy_cost.frontend_installed():
        results["proxy"] = {"skipped": "frontend/ is not installed (no package.json or node_modules)"}
        log("proxy: skipped, frontend/ is not installed")
        return
    try:
        results["proxy"] = proxy_cost.measure(spotter, plan.proxy_concurrency, plan.proxy_duration, WORK / "proxy",
                                              plan.proxy_refusals, log, plan.proxy_profile_seconds)
    except proxy_cost.ProxyUnavailable as failure:
        raise BenchFailure(f"proxy phase: {failure}") from failure


class RssSampler:
    """Polls a server's RSS in a thread while a phase runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.samples.append((round(time.monotonic() - self._started, 1), self.server.rss_bytes()))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def scale(index: Path, answers: Path, plan: Plan, results: dict[str, Any]) -> None:
    servers, _ = start_pair(index, {"pacing": str(plan.scale_pacing), "heartbeat": str(plan.scale_heartbeat)},
                            "scale", plan.validate_questions, answers)
    rows: dict[str, Any] = {}
    try:
        for side in SIDES:
            server = servers[side]
            client(server, "scale", "--streams", "1", "--hold", "0")  # loads the model: idle RSS is warm
            idle_rss = server.rss_bytes()
            with RssSampler(server) as sampler:
                measured = client(server, "scale", "--streams", str(plan.scale_streams), "--rate",
                                  str(plan.scale_rate), "--hold", str(plan.scale_hold),
                                  "--heartbeat", str(plan.scale_heartbeat), "--settle-timeout", "300")
            peak = max((rss for _, rss in sampler.samples), default=server.rss_bytes())
            measured.update(idle_rss_mb=round(idle_rss / 2**20, 1), peak_rss_mb=round(peak / 2**20, 1),
                            rss_series=[(t, round(rss / 2**20, 1)) for t, rss in sampler.samples])
            rows[side] = measured
            log(f"{side:8} {measured['opened']} streams opened, {measured['dropped']} dropped, peak RSS "
                f"{measured['peak_rss_mb']} MB, heartbeat delay p99 {measured['heartbeat_delay_ms']['p99']} ms")
            if measured["dropped"] or measured["opened"] < plan.scale_streams:
                raise BenchFailure(f"{side} dropped streams: {measured['drop_samples']}")
            server.stop()  # frees the core for the other side
    finally:
        for server in servers.values():
            server.stop()
    results["scale"] = {"pacing_s": plan.scale_pacing, "heartbeat_s": plan.scale_heartbeat, **rows}


def memory(plan: Plan, results: dict[str, Any]) -> None:
    args = ["--count", str(plan.memory_count), "--sweep-total", str(plan.sweep_total),
            "--sweep-rate", str(plan.sweep_rate), "--ttl", str(plan.sweep_ttl)]
    commands = {"spotter": [sys.executable, "-m", "bench.memory_cost", *args],
                "baseline": [str(BASELINE_PYTHON), str(REPO / "bench" / "baseline" / "memory_cost.py"), *args]}
    measured: dict[str, dict[str, Any]] = {side: {} for side in SIDES}
    for part in ("window", "sweep"):  # a fresh process per part; the two sides at once, one per core
        running = {side: subprocess.Popen([*command, "--part", part], cwd=REPO, stdout=subprocess.PIPE, text=True)
                   for side, command in commands.items()}
        for side, process in running.items():
            output = process.communicate(timeout=900)[0]
            if process.returncode:
                raise BenchFailure(f"the {side} memory measurement ({part}) failed")
            measured[side].update(json.loads(output))
    results["memory"] = measured
    for side in SIDES:
        window = measured[side]["window"][0]
        log(f"{side:8} {window['bytes_per_conversation']} B per conversation at the full window "
            f"({window['overhead_bytes']} B + {window['text_bytes']} B text)")


def retrieval(plan: Plan, results: dict[str, Any]) -> None:
    import asyncio

    done = subprocess.run([str(BASELINE_PYTHON), "embed_cost.py", *QUESTIONS], cwd=REPO / "bench" / "baseline",
                          capture_output=True, text=True, check=False, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    if done.returncode:
        raise BenchFailure(f"baseline embedding failed:\n{done.stderr[-2000:]}")
    baseline = json.loads(done.stdout)
    agreement = vector_agreement(baseline["vectors"])
    if agreement < 0.999:
        raise BenchFailure(f"the baseline's embeddings differ from Spotter's (cosine {agreement:.4f})")
    measured = asyncio.run(measure_retrieval(plan.retrieval_sizes, plan.retrieval_queries))
    results["retrieval"] = {**measured, "baseline_embed_ms_p50": baseline["embed_ms_p50"],
                            "vector_cosine_min": round(agreement, 6)}
    log(f"retrieval: embed p50 {measured['embed_ms']['p50']} ms (baseline {baseline['embed_ms_p50']} ms), "
        f"vectors agree to cosine {agreement:.6f}")


def machine() -> dict[str, Any]:
    def version(python: Path, packages: str) -> str:
        code = ("import importlib.metadata as m;print(' '.join(f'{p}=={m.version(p)}' for p in "
                f"{packages.split()!r}))")
        return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "spotter_stack": version(Path(sys.executable), "litestar msgspec uvicorn uvloop httptools numpy"),
        "baseline_stack": version(BASELINE_PYTHON, "fastapi starlette uvicorn uvloop httptools langchain-classic "
                                                   "langchain-core cachetools pydantic numpy"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a seconds-long check of every phase")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    started = time.monotonic()
    raise_fd_limit()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    try:
        ensure_baseline_venv()
        index = built_index()
        results: dict[str, Any] = {"smoke": args.smoke, "machine": machine(),
                                   "plan": {f: getattr(plan, f) for f in plan.__slots__}}
        log(f"load average before the run: {results['machine']['load_average']}")
        servers, spotter_check = start_pair(index, {}, "fast", plan.validate_questions)
        try:
            results["grammar"] = check_grammar(servers, spotter_check, plan)
            throughput(servers, plan, results)
            if plan.profile_seconds:
                profile_under_load(servers, plan, results)
            servers["baseline"].stop()  # the proxy phase measures Spotter alone
            proxy(servers["spotter"], plan, results)
        finally:
            for server in servers.values():
                server.stop()
        scale(index, WORK / "answers.json", plan, results)
        memory(plan, results)
        retrieval(plan, results)
        results["machine"]["load_average_after"] = os.getloadavg()
        results["seconds"] = round(time.monotonic() - started, 1)
    except BenchFailure as failure:
        print(f"bench FAILED: {failure}", file=sys.stderr)
        return 1
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    if args.smoke:
        log(f"smoke passed in {results['seconds']} s")
        return 0
    from bench.report import write_report

    write_report(results, WORK / "results.json")
    log(f"done in {results['seconds']} s: docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
