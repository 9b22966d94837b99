/**
 * A real, throwaway PostgreSQL server for the account repository's tests, from Debian's
 * binaries: a temporary data directory, 127.0.0.1 on a free port, trust auth, no fsync.
 * `initdb` refuses root, so under root it runs as the `postgres` user. Stopped by its PID.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { closedPort } from "./loopback-upstream";

export interface PostgresServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Debian's PostgreSQL bin directory, or null when the package is not installed. */
export function postgresBinaries(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  for (const version of readdirSync(root).sort().reverse()) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "postgres"))) return bin;
  }
  return null;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
  return { uid: id("-u"), gid: id("-g") };
}

export async function startPostgres(bin: string): Promise<PostgresServer> {
  const base = mkdtempSync(join(tmpdir(), "spotter-web-pg-"));
  const user = postgresUser();
  if (user) chownSync(base, user.uid, user.gid);
  const data = join(base, "data");
  execFileSync(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], { ...user, stdio: "ignore" });
  const port = await closedPort();
  const server: ChildProcess = spawn(
    join(bin, "postgres"),
    ["-D", data, "-p", String(port), "-k", base, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
    { ...user, stdio: "ignore" },
  );
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      execFileSync(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
      break;
    } catch {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error("PostgreSQL did not start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    async stop() {
      const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
      server.kill("SIGINT"); // fast shutdown
      await exited;
      rmSync(base, { recursive: true, force: true });
    },
  };
}
