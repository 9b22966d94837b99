"""Measures the time-to-first-event the web app's proxy adds in front of the real service.

Starts the production (standalone) build of `frontend/` against a running Spotter service, gets a
personal API token the way contract-tests/test_proxy_contract.py does (the seeded account signs
in through Auth.js, then `POST /api/v1/tokens`), and sends chat turns alternately straight to the
service and through `/api/v1/chat` from one client process. Both arms meet the same service load
at the same moment, so their TTFE difference is the proxy's; every pair must stream equal bytes.

`python -m bench.proxy_cost` runs it alone (starting its own service); `bench.run` calls
`measure` with the service of its throughput phase.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench.load_client import Connection, Tokens, TurnResult, summary_ms
from bench.node_profile import summarise
from bench.servers import REPO, Server, built_index, raise_fd_limit, stop_process
from bench.workload import AUTH_SECRET, CLIENT_CORE, CONVERSATION_TURNS, QUESTIONS

__all__ = ["ProxyUnavailable", "WebApp", "ensure_standalone_build", "frontend_installed", "measure",
           "provision_api_token"]

FRONTEND = REPO / "frontend"
STANDALONE = FRONTEND / ".next" / "standalone"
#: What e2e/global-setup.ts compares with the build; a newer one means the build is stale.
BUILD_SOURCES = ("src/app", "src/auth", "src/chat", "src/components", "src/server", "src/workouts", "src/api-client",
                 "src/proxy.ts", "src/instrumentation.ts", "next.config.ts", "package.json")
SPEC_HASH = FRONTEND / ".next" / "spotter-spec.sha256"
#: The development account `npm run seed` creates (frontend/README.md).
DEMO_EMAIL, DEMO_PASSWORD = "demo@spotter.local", "spotter-demo"
#: Two cores: the service keeps its core as in every other phase, so the web app shares the client's.
PROXY_CORE = CLIENT_CORE
ARMS = ("direct", "proxy")
STARTUP_SECONDS = 60.0
#: Turns before measuring: route modules load, pools fill, and V8 optimises Next.js's and the proxy's
#: hot paths (the first few hundred requests after a start cost about twice the steady state).
WARMUP_SECONDS = 10.0


class ProxyUnavailable(RuntimeError):
    """The web app cannot be built, started or signed in to; the message says which and why."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _newest_change(path: Path) -> float:
    if not path.is_dir():
        return path.stat().st_mtime
    return max([path.stat().st_mtime, *(_newest_change(child) for child in path.iterdir())])


def _spec_hash(work_dir: Path) -> str:
    """SHA-256 of the bundled spec, bundled afresh (the build embeds it; e2e records the same hash)."""
    out = work_dir / "spec"
    subprocess.run([sys.executable, "-m", "spotter.spec", "--out", str(out)], check=True, capture_output=True)
    return hashlib.sha256((out / "openapi.yaml").read_bytes()).hexdigest()


def frontend_installed() -> bool:
    """Whether `make install` set up the web app (it does whenever frontend/package.json exists)."""
    return (FRONTEND / "package.json").is_file() and (FRONTEND / "node_modules").is_dir()


def ensure_standalone_build(work_dir: Path) -> Path:
    """`.next/standalone/server.js`, rebuilt by `npm run build` by the rule e2e/global-setup.ts uses."""
    if not frontend_installed():
        raise ProxyUnavailable("frontend/ has no package.json or node_modules (run `make install`)")
    server = STANDALONE / "server.js"
    build_id = FRONTEND / ".next" / "BUILD_ID"
    spec = _spec_hash(work_dir)
    built = build_id.stat().st_mtime if build_id.exists() and server.exists() else 0.0
    fresh = built and SPEC_HASH.exists() and SPEC_HASH.read_text() == spec and all(
        _newest_change(FRONTEND / source) < built for source in BUILD_SOURCES if (FRONTEND / source).exists())
    if fresh:
        return server
    done = subprocess.run(["npm", "run", "--silent", "build"], cwd=FRONTEND, capture_output=True, text=True,
                          check=False, env={**os.environ, "NEXT_TELEMETRY_DISABLED": "1"})
    if done.returncode or not server.exists():
        raise ProxyUnavailable(f"`npm run build` in frontend/ failed:\n{(done.stdout + done.stderr)[-3000:]}")
    SPEC_HASH.write_text(spec)
    return server


@dataclass
class WebApp:
    """The web app's standalone server (`node server.js`, as its container runs it), pinned to PROXY_CORE."""

    work_dir: Path
    service_url: str
    port: int = field(default_factory=_free_port)
    node_options: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The variables contract-tests/test_proxy_contract.py gives `next start`, the service's secret shared."""
        return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "NODE_ENV": "production",
                "NEXT_TELEMETRY_DISABLED": "1", "SPOTTER_ENV": "production", "SPOTTER_API_URL": self.service_url,
                "SPOTTER_AUTH_SECRET": AUTH_SECRET, "AUTH_SECRET": secrets.token_urlsafe(48),
                "AUTH_TRUST_HOST": "true", "SPOTTER_WEB_DATA_DIR": str(self.work_dir / "web-data"),
                "PORT": str(self.port), "HOSTNAME": "127.0.0.1"}

    def start(self, server_js: Path) -> WebApp:
        env = self.env()
        (self.work_dir / "web-data").mkdir(parents=True, exist_ok=True)
        seeded = subprocess.run(["npm", "run", "--silent", "seed"], cwd=FRONTEND, capture_output=True, text=True,
                                check=False, timeout=180, env={**env, "SPOTTER_ENV": "development"})
        if seeded.returncode:
            raise ProxyUnavailable(f"`npm run seed` failed:\n{seeded.stderr[-2000:]}")
        log = (self.work_dir / "web.log").open("ab")
        self.process = subprocess.Popen(["taskset", "-c", str(PROXY_CORE), "node", *self.node_options, str(server_js)],
                                        cwd=server_js.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ProxyUnavailable(f"the web app exited with {self.process.returncode}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/api/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise ProxyUnavailable(f"the web app did not start within {STARTUP_SECONDS} s:\n{self.logs()}")

    def logs(self) -> str:
        path = self.work_dir / "web.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def cpu_seconds(self) -> float:
        """User + system CPU of the Node process, all its threads (`taskset` execs, so the PID is Node's)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        stop_process(self.process)


def provision_api_token(web_url: str) -> str:
    """Sign the seeded account in with Auth.js credentials, then create a personal API token, as a user would."""
    with httpx.Client(base_url=web_url, timeout=30) as browser:
        csrf = browser.get("/api/auth/csrf").json()["csrfToken"]
        browser.post("/api/auth/callback/credentials", data={
            "email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrfToken": csrf, "callbackUrl": web_url + "/"})
        if not any(name.endswith("authjs.session-token") for name in browser.cookies):
            raise ProxyUnavailable("signing in the seeded account set no Auth.js session cookie")
        created = browser.post("/api/v1/tokens", json={"name": "benchmark"})
        if created.status_code != 201:
            raise ProxyUnavailable(f"POST /api/v1/tokens answered {created.status_code}: {created.text[:500]}")
        token: str = created.json()["token"]
    return token


# -- the client: runs in its own process on the client core -----------------------------------------

class _TurnFailed(Exception):
    pass


async def alternate(service_port: int, web_port: int, api_token: str, concurrency: int, duration: float,
                    tag: str) -> dict[str, Any]:
    """`concurrency` workers, each sending the same question to both arms in turn (which arm goes
    first alternates), in conversations of CONVERSATION_TURNS turns, for `duration` seconds."""
    tokens = Tokens()
    deadline = time.perf_counter() + duration
    ttfe: dict[str, list[float]] = {arm: [] for arm in ARMS}
    ttfb: dict[str, list[float]] = {arm: [] for arm in ARMS}
    added: list[float] = []
    mismatches: list[str] = []
    errors: list[str] = []

    async def worker(index: int) -> None:
        links = {"direct": Connection("127.0.0.1", service_port), "proxy": Connection("127.0.0.1", web_port,
                                                                                       "/api/v1/chat")}
        bearer = {"direct": f"{tag}:w{index}", "proxy": api_token}
        asked = index
        try:
            while time.perf_counter() < deadline:
                conversations = {arm: uuid.uuid4() for arm in ARMS}
                turn = 0
                for _ in range(CONVERSATION_TURNS):
                    if time.perf_counter() >= deadline:
                        break
                    question = QUESTIONS[asked % len(QUESTIONS)]
                    order = ARMS if asked % 2 == 0 else ARMS[::-1]
                    asked += 1
                    results: dict[str, TurnResult] = {}
                    for arm in order:
                        token = tokens.get(bearer[arm]) if arm == "direct" else bearer[arm]
                        result = await links[arm].turn(token, conversations[arm], turn, question, keep_raw=True)
                        if result.error or result.done_turn is None or result.ttfe is None or result.ttfb is None:
                            raise _TurnFailed(f"{arm}: {result.error or 'no done event'}: {result.raw[:300]!r}")
                        results[arm] = result
                    for arm in ARMS:
                        ttfe[arm].append(results[arm].ttfe or 0.0)
                        ttfb[arm].append(results[arm].ttfb or 0.0)
                    added.append((results["proxy"].ttfe or 0.0) - (results["direct"].ttfe or 0.0))
                    if results["proxy"].raw != results["direct"].raw:
                        mismatches.append(f"{question!r} turn {turn}: {len(results['direct'].raw)} bytes direct, "
                                          f"{len(results['proxy'].raw)} through the proxy")
                    turn = results["direct"].done_turn or turn + 1
        except (OSError, ValueError, asyncio.IncompleteReadError, _TurnFailed) as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            for link in links.values():
                link.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return {"concurrency": concurrency, "duration_s": duration, "pairs": len(added),
            "identical_pairs": len(added) - len(mismatches), "mismatch_samples": mismatches[:5],
            "ttfe_ms": {arm: summary_ms(ttfe[arm]) for arm in ARMS},
            "ttfb_ms": {arm: summary_ms(ttfb[arm]) for arm in ARMS},
            "paired_added_ms": summary_ms(added), "errors": len(errors), "error_samples": errors[:5]}


async def refusals(service_port: int, web_port: int, count: int) -> dict[str, Any]:
    """Time to the response for a caller each side refuses (401), alternating: the service checks a
    bearer token; the web app routes the request, hashes a well-formed unknown API token and looks it
    up. The web app's floor, before it forwards anything."""
    links = {"direct": Connection("127.0.0.1", service_port), "proxy": Connection("127.0.0.1", web_port,
                                                                                   "/api/v1/chat")}
    bearer = {"direct": "not-a-token", "proxy": "spt_" + "A" * 43}
    answered: dict[str, list[float]] = {arm: [] for arm in ARMS}
    try:
        for index in range(count):
            for arm in ARMS if index % 2 == 0 else ARMS[::-1]:
                result = await links[arm].turn(bearer[arm], uuid.uuid4(), 0, QUESTIONS[0])
                if result.status != 401 or result.ttfb is None:
                    raise _TurnFailed(f"{arm} answered an unknown caller with {result.status}: {result.raw[:300]!r}")
                answered[arm].append(result.ttfb)
    finally:
        for link in links.values():
            link.close()
    return {arm: summary_ms(answered[arm]) for arm in ARMS}


# -- the runner -----------------------------------------------------------------------------------

def _client(service: Server, web: WebApp, token: str, concurrency: int, duration: float, tag: str,
            refused: int = 0) -> dict[str, Any]:
    command = ["taskset", "-c", str(CLIENT_CORE), sys.executable, "-m", "bench.proxy_cost", "client",
               "--service-port", str(service.port), "--web-port", str(web.port), "--token", token,
               "--concurrency", str(concurrency), "--duration", str(duration), "--tag", tag,
               "--refused", str(refused)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode:
        raise ProxyUnavailable(f"the proxy client failed:\n{done.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(done.stdout)
    if measured["errors"]:
        raise ProxyUnavailable(f"turns failed at {concurrency} streams: {measured['error_samples']}\n"
                               f"web app log:\n{web.logs()}\nservice log:\n{service.logs()}")
    return measured


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


def profile(service: Server, server_js: Path, work_dir: Path, seconds: float) -> dict[str, Any]:
    """Where the web app's CPU goes at 1 stream: a fresh web app under `node --cpu-prof`, warmed up as
    in the measured phase, then `seconds` of turns; only those seconds are summarised."""
    directory = work_dir / "cpu-profile"
    shutil.rmtree(directory, ignore_errors=True)
    web = WebApp(work_dir / "profiled", service.url, node_options=("--cpu-prof", f"--cpu-prof-dir={directory}"))
    web.start(server_js)
    try:
        token = provision_api_token(web.url)
        _client(service, web, token, 2, WARMUP_SECONDS, "proxy-profile-warm")
        start = time.monotonic_ns() // 1000
        _client(service, web, token, 1, seconds, "proxy-profile")
        end = time.monotonic_ns() // 1000
    finally:
        web.stop()  # Next.js exits on SIGTERM, and Node writes the profile as it exits
    written = sorted(directory.glob("*.cpuprofile"))
    if not written:
        raise ProxyUnavailable(f"`node --cpu-prof` wrote no profile into {directory}:\n{web.logs()}")
    try:
        return {"concurrency": 1, "seconds": seconds, **summarise(written[-1], (start, end))}
    except ValueError as failure:
        raise ProxyUnavailable(str(failure)) from failure


def measure(service: Server, concurrency: Sequence[int], duration: float, work_dir: Path, refused: int = 50,
            log: Callable[[str], None] = print, profile_seconds: float = 0.0) -> dict[str, Any]:
    """Build if needed, start the web app against `service`, and measure each concurrency level (the
    first one also times `refused` refusals of an unknown caller on each side); then, given
    `profile_seconds`, profile a fresh web app (`profile`)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    server_js = ensure_standalone_build(work_dir)
    web = WebApp(work_dir, service.url).start(server_js)
    try:
        token = provision_api_token(web.url)
        _client(service, web, token, 2, WARMUP_SECONDS, "proxy-warm")
        levels = []
        for position, level in enumerate(concurrency):
            cpu_before, load_before = web.cpu_seconds(), os.getloadavg()[0]
            measured = _client(service, web, token, level, duration, f"proxy{level}", 0 if position else refused)
            cpu = web.cpu_seconds() - cpu_before
            measured["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            ttfe, ttfb = measured["ttfe_ms"], measured["ttfb_ms"]
            measured["added_ttfe_ms"] = {q: _difference(ttfe["proxy"][q], ttfe["direct"][q]) for q in ("p50", "p99")}
            measured["added_ttfb_ms"] = {q: _difference(ttfb["proxy"][q], ttfb["direct"][q]) for q in ("p50", "p99")}
            measured["proxy_cpu_ms_per_turn"] = round(cpu * 1000 / max(measured["pairs"], 1), 3)
            measured["proxy_cpu_share"] = round(cpu / duration, 3)
            if measured["identical_pairs"] != measured["pairs"]:
                raise ProxyUnavailable(f"the proxy changed the stream: {measured['mismatch_samples']}")
            if "refused_ms" in measured:
                floor = measured["refused_ms"]
                log(f"proxy    refusing an unknown caller p50: service {floor['direct']['p50']} ms, web app "
                    f"{floor['proxy']['p50']} ms")
            log(f"proxy    c={level:<4} TTFE p50 direct {ttfe['direct']['p50']} ms, proxy {ttfe['proxy']['p50']} ms, "
                f"added p50 {measured['added_ttfe_ms']['p50']} ms p99 {measured['added_ttfe_ms']['p99']} ms; "
                f"{measured['pairs']} pairs byte-identical; proxy CPU {measured['proxy_cpu_ms_per_turn']} ms/turn")
            levels.append(measured)
    finally:
        web.stop()
    found: dict[str, Any] = {"proxy_core": PROXY_CORE, "server": "node .next/standalone/server.js", "levels": levels}
    if profile_seconds:
        found["profile"] = profile(service, server_js, work_dir, profile_seconds)
        log(f"proxy    profiled {found['profile']['samples']} busy samples of the web app")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.proxy_cost", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=("run", "client"), default="run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--service-port", type=int)
    parser.add_argument("--web-port", type=int)
    parser.add_argument("--token")
    parser.add_argument("--tag", default="proxy")
    parser.add_argument("--refused", type=int, default=0, help="client: then time this many refusals per side")
    args = parser.parse_args(argv)
    if args.mode == "client":
        output = uvloop.run(alternate(args.service_port, args.web_port, args.token, args.concurrency[0],
                                      args.duration, args.tag))
        if args.refused:
            output["refused_ms"] = uvloop.run(refusals(args.service_port, args.web_port, args.refused))
        print(json.dumps(output))
        return 0
    raise_fd_limit()
    work = REPO / "bench" / ".work" / "proxy"
    shutil.rmtree(work, ignore_errors=True)
    service = Server("spotter", work / "spotter", built_index())
    service.work_dir.mkdir(parents=True, exist_ok=True)
    service.start()
    try:
        results = measure(service, args.concurrency, args.duration, work)
    except ProxyUnavailable as failure:
        print(f"proxy measurement FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        service.stop()
    (work / "proxy.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
