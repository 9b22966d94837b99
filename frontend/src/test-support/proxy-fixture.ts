/**
 * The proxy's real parts for unit tests: configuration, a SQLite account store in a temporary
 * directory, and real Auth.js session cookies and API tokens for signed-in users.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode } from "next-auth/jwt";
import { ApiTokens } from "@/server/accounts/api-tokens";
import { CredentialAccounts } from "@/server/accounts/credential-accounts";
import { SqliteAccountRepository } from "@/server/accounts/sqlite-repository";
import { type WebConfig, readConfig } from "@/server/config";
import { credentialsSubject } from "@/server/identity/subject";
import type { ProxyContext } from "@/server/proxy/admission";

export const SERVICE_SECRET = "unit-test-service-secret-0123456789abcdef";
export const AUTH_SECRET = "unit-test-auth-secret-0123456789abcdefghij";

export interface ProxyFixture {
  readonly context: ProxyContext;
  readonly config: WebConfig;
  /** A signed-up user and a valid session cookie header for them. */
  signedIn(email?: string): Promise<{ subject: string; cookie: string; userId: string }>;
  apiToken(subject: string, name?: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function proxyFixture(apiUrl: string, env: Record<string, string> = {}): Promise<ProxyFixture> {
  const dir = mkdtempSync(join(tmpdir(), "spotter-web-test-"));
  const config = readConfig({
    SPOTTER_ENV: "production",
    SPOTTER_API_URL: apiUrl,
    SPOTTER_AUTH_SECRET: SERVICE_SECRET,
    AUTH_SECRET,
    SPOTTER_WEB_DATA_DIR: dir,
    ...env,
  });
  const repository = new SqliteAccountRepository(join(dir, "accounts.sqlite3"));
  const context: ProxyContext = { config, repository };
  let users = 0;
  return {
    context,
    config,
    async signedIn(email = `user${++users}@example.com`) {
      const result = await new CredentialAccounts(repository).signUp(email, "correct horse battery");
      if (!result.ok) throw new Error(result.problem);
      const subject = credentialsSubject(result.user.id);
      const name = "authjs.session-token";
      const token = await encode({ token: { subject, email }, secret: AUTH_SECRET, salt: name });
      return { subject, cookie: `${name}=${token}`, userId: result.user.id };
    },
    async apiToken(subject, name = "script") {
      const created = await new ApiTokens(repository).create(subject, name);
      return { id: created.id, token: created.token };
    },
    async close() {
      await repository.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
