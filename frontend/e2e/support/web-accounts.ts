/**
 * Signed-in callers for HTTP-level tests of the running web app: an account created in the
 * app's own account store and a session cookie sealed with the app's AUTH_SECRET, exactly as
 * Auth.js issues them.
 */

import { join } from "node:path";
import { encode } from "next-auth/jwt";
import { CredentialAccounts } from "@/server/accounts/credential-accounts";
import { SqliteAccountRepository } from "@/server/accounts/sqlite-repository";
import { credentialsSubject } from "@/server/identity/subject";
import { AUTH_SECRET } from "./environment";

const COOKIE = "authjs.session-token";

export async function signedInCaller(webDataDir: string, email: string): Promise<{ subject: string; cookie: string }> {
  const repository = new SqliteAccountRepository(join(webDataDir, "accounts.sqlite3"));
  try {
    const result = await new CredentialAccounts(repository).signUp(email, "e2e password 123");
    if (!result.ok) throw new Error(result.problem);
    const subject = credentialsSubject(result.user.id);
    const token = await encode({ token: { subject, email }, secret: AUTH_SECRET, salt: COOKIE });
    return { subject, cookie: `${COOKIE}=${token}` };
  } finally {
    await repository.close();
  }
}
