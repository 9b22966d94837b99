/** Where the end-to-end suite keeps things and the secrets its processes share. */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const REPO = resolve(FRONTEND, "..");
/** Reused across runs so the service builds its knowledge index once. */
export const SERVICE_DATA = join(FRONTEND, ".e2e-cache", "service-data");
export const LOGS = join(FRONTEND, "test-results", "e2e-logs");
/**
 * Screenshots of the main states. A test run keeps them with its other results, so `make test`
 * leaves the work tree clean; `make screenshots` (SPOTTER_E2E_SCREENSHOTS=docs) refreshes the
 * ones the README shows.
 */
export const SCREENSHOTS =
  process.env.SPOTTER_E2E_SCREENSHOTS === "docs"
    ? join(REPO, "docs", "screenshots")
    : join(FRONTEND, "test-results", "screenshots");

export const SERVICE_SECRET = "e2e-service-secret-0123456789abcdefghijklmnop";
export const AUTH_SECRET = "e2e-auth-secret-0123456789abcdefghijklmnopqrs";
export const MEMORY_TTL_SECONDS = 3;

export interface E2eServers {
  readonly serviceUrl: string;
  readonly webUrl: string;
  readonly webDataDir: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    servers: E2eServers;
  }
}
