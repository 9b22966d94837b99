/**
 * Starts what the end-to-end suite runs against: the real service (its knowledge index cached
 * under `.e2e-cache/`) and the production build of the web app, each on a free loopback port,
 * rebuilding the app first when its sources are newer than the build. Stops both by PID.
 */

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { FRONTEND, LOGS, MEMORY_TTL_SECONDS, REPO, SERVICE_DATA, SERVICE_SECRET } from "./support/environment";
import { type Started, freePort, start, stop, waitForHttp } from "./support/processes";
import { startWeb } from "./support/web-server";

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestChange(join(path, entry))), stat.mtimeMs);
}

/** Rebuilds unless `.next/` is newer than every source and was built from the same spec. */
function ensureBuild(): void {
  const buildId = join(FRONTEND, ".next", "BUILD_ID");
  const specHashFile = join(FRONTEND, ".next", "spotter-spec.sha256");
  // The spec is compared by content: `npm run generate` rewrites it on every run.
  const specHash = createHash("sha256").update(readFileSync(join(REPO, "build", "openapi.yaml"))).digest("hex");
  const sources = ["src/app", "src/auth", "src/chat", "src/components", "src/server", "src/workouts", "src/api-client",
    "src/proxy.ts", "src/instrumentation.ts", "next.config.ts", "package.json"].map((p) => join(FRONTEND, p));
  const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  const sameSpec = existsSync(specHashFile) && readFileSync(specHashFile, "utf8") === specHash;
  if (built && sameSpec && sources.every((source) => !existsSync(source) || newestChange(source) < built)) return;
  console.log("e2e: building the web app (next build)…");
  execFileSync("node", ["node_modules/next/dist/bin/next", "build"], {
    cwd: FRONTEND,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  writeFileSync(specHashFile, specHash);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureBuild();
  mkdirSync(SERVICE_DATA, { recursive: true });
  const webDataDir = mkdtempSync(join(tmpdir(), "spotter-e2e-web-"));
  const started: Started[] = [];
  const teardown = async () => {
    for (const process of started.reverse()) await stop(process);
    rmSync(webDataDir, { recursive: true, force: true });
  };
  try {
    const servicePort = await freePort();
    const service = start("service", join(REPO, ".venv", "bin", "spotter"), ["serve", "--host", "127.0.0.1", "--port", String(servicePort)], {
      cwd: REPO,
      logDir: LOGS,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SPOTTER_ENV: "development",
        SPOTTER_AUTH_SECRET: SERVICE_SECRET,
        SPOTTER_DATA_DIR: SERVICE_DATA,
        SPOTTER_MEMORY_TTL_SECONDS: String(MEMORY_TTL_SECONDS),
        SPOTTER_MEMORY_SWEEP_SECONDS: "0.5",
        SPOTTER_OFFLINE_TOKEN_DELAY_SECONDS: "0.05",
        SPOTTER_RATE_LIMIT_PER_MINUTE: "240",
        SPOTTER_MAX_STREAMS_PER_USER: "6",
        SPOTTER_LOG_LEVEL: "WARNING",
      },
    });
    started.push(service);
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    // The first start builds the knowledge index (minutes on a busy 2-core machine); later ones reuse it.
    await waitForHttp(`${serviceUrl}/readyz`, service, 900_000);
    const web = await startWeb("web", serviceUrl, webDataDir);
    started.push(web.process);
    project.provide("servers", { serviceUrl, webUrl: web.url, webDataDir });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
