/**
 * The web app's configuration, read from the environment in one place and validated on first
 * use (and at server start by `instrumentation.ts`), so a bad value stops the app with the
 * variable's name in the message instead of failing on some later request.
 */

export const DEVELOPMENT_SERVICE_SECRET = "spotter-development-secret-not-for-production-use";
export const DEVELOPMENT_AUTH_SECRET = "spotter-web-development-auth-secret-not-for-production-use";
const MIN_SECRET_BYTES = 32;

export type Environment = "development" | "production";

export interface OAuthClient {
  readonly id: string;
  readonly secret: string;
}

export interface WebConfig {
  readonly environment: Environment;
  /** Where the Spotter service listens; the proxy forwards `/api/v1/...` to `<apiUrl>/v1/...`. */
  readonly apiUrl: string;
  /** The HS256 key shared with the service for minting service tokens. */
  readonly serviceSecret: Uint8Array;
  /** Auth.js's key for session cookies. */
  readonly authSecret: string;
  /** PostgreSQL for accounts when set; SQLite under `dataDir` otherwise. */
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  /** How long the proxy waits for the service's response headers before giving up. */
  readonly upstreamTimeoutMs: number;
  readonly github: OAuthClient | null;
  readonly google: OAuthClient | null;
}

export class ConfigurationError extends Error {
  override name = "ConfigurationError";
}

type Env = Readonly<Record<string, string | undefined>>;

/** The validated configuration in `env`; throws ConfigurationError naming the bad variable. */
export function readConfig(env: Env): WebConfig {
  const environment = readEnvironment(env);
  const development = environment === "development";
  const serviceSecret = secret(env, "SPOTTER_AUTH_SECRET", development ? DEVELOPMENT_SERVICE_SECRET : null);
  if (!development && serviceSecret === DEVELOPMENT_SERVICE_SECRET) {
    throw new ConfigurationError("SPOTTER_AUTH_SECRET is the development secret; set a real one");
  }
  const apiUrl = readUrl(env, "SPOTTER_API_URL", "http://127.0.0.1:8000");
  const timeoutSeconds = Number(env.SPOTTER_WEB_UPSTREAM_TIMEOUT_SECONDS ?? "10");
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new ConfigurationError("SPOTTER_WEB_UPSTREAM_TIMEOUT_SECONDS must be a positive number");
  }
  return {
    environment,
    apiUrl,
    serviceSecret: new TextEncoder().encode(serviceSecret),
    authSecret: secret(env, "AUTH_SECRET", development ? DEVELOPMENT_AUTH_SECRET : null),
    databaseUrl: nonEmpty(env.DATABASE_URL),
    dataDir: nonEmpty(env.SPOTTER_WEB_DATA_DIR) ?? ".data",
    upstreamTimeoutMs: timeoutSeconds * 1000,
    github: oauthClient(env, "GITHUB"),
    google: oauthClient(env, "GOOGLE"),
  };
}

let cached: WebConfig | null = null;

/** The process's configuration, read once. */
export function webConfig(): WebConfig {
  cached ??= readConfig(process.env);
  return cached;
}

function readEnvironment(env: Env): Environment {
  const raw = nonEmpty(env.SPOTTER_ENV) ?? "production";
  if (raw !== "development" && raw !== "production") {
    throw new ConfigurationError(`SPOTTER_ENV=${JSON.stringify(raw)} must be development or production`);
  }
  return raw;
}

function secret(env: Env, name: string, fallback: string | null): string {
  const value = nonEmpty(env[name]) ?? fallback;
  if (value === null) {
    throw new ConfigurationError(`${name} must be set (only SPOTTER_ENV=development has a built-in one)`);
  }
  if (new TextEncoder().encode(value).length < MIN_SECRET_BYTES) {
    throw new ConfigurationError(`${name} must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return value;
}

function readUrl(env: Env, name: string, fallback: string): string {
  const raw = nonEmpty(env[name]) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`${name}=${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigurationError(`${name} must be an http(s) URL`);
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function oauthClient(env: Env, provider: "GITHUB" | "GOOGLE"): OAuthClient | null {
  const id = nonEmpty(env[`AUTH_${provider}_ID`]);
  const clientSecret = nonEmpty(env[`AUTH_${provider}_SECRET`]);
  if (!id && !clientSecret) return null;
  if (!id || !clientSecret) {
    throw new ConfigurationError(`AUTH_${provider}_ID and AUTH_${provider}_SECRET must be set together`);
  }
  return { id, secret: clientSecret };
}

function nonEmpty(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}
