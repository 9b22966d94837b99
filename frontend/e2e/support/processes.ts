/**
 * Child processes for the end-to-end suite: started with their output in log files, waited
 * for over HTTP, and stopped by their own PID (SIGTERM, then SIGKILL after a grace period).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly log: string;
}

export function start(name: string, command: string, args: string[], options: { cwd: string; env: Record<string, string | undefined>; logDir: string }): Started {
  mkdirSync(options.logDir, { recursive: true });
  const log = join(options.logDir, `${name}.log`);
  const out = openSync(log, "w");
  const child = spawn(command, args, { cwd: options.cwd, env: options.env as NodeJS.ProcessEnv, stdio: ["ignore", out, out] });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  return { name, pid: child.pid, child, log };
}

export async function stop(process: Started, graceMs = 10_000): Promise<void> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => process.child.once("exit", () => resolve()));
  process.child.kill("SIGTERM");
  const timer = setTimeout(() => process.child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** Polls `url` until it answers `status`, the process dies, or the deadline passes. */
export async function waitForHttp(url: string, process: Started, timeoutMs: number, status = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) throw new Error(`${process.name} exited (${process.child.exitCode}); see ${process.log}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: "manual" });
      await response.arrayBuffer();
      if (response.status === status) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${process.name} did not answer ${url} within ${timeoutMs} ms; see ${process.log}`);
}
