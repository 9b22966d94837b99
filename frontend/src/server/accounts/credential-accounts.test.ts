import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CredentialAccounts } from "./credential-accounts";
import { MAX_FAILURES, WINDOW_MS } from "./login-throttle";
import { SqliteAccountRepository } from "./sqlite-repository";

let dir: string;
let repository: SqliteAccountRepository;
let now: Date;
let accounts: CredentialAccounts;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spotter-accounts-"));
  repository = new SqliteAccountRepository(join(dir, "accounts.sqlite3"));
  now = new Date("2026-11-25T10:00:00Z");
  accounts = new CredentialAccounts(repository, () => now);
});

afterEach(async () => {
  await repository.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("CredentialAccounts", () => {
  it("signs up once per email (case-insensitive) and stores only a hash", async () => {
    const created = await accounts.signUp(" Ada@Example.com ", "long enough password");
    expect(created.ok).toBe(true);
    const user = await repository.findUserByEmail("ada@example.com");
    expect(user?.passwordHash).toMatch(/^\$2[aby]\$/);
    expect(user?.passwordHash).not.toContain("long enough password");
    expect(await accounts.signUp("ada@example.com", "another password")).toEqual({
      ok: false,
      problem: "An account with this email already exists.",
    });
  });

  it("refuses bad emails and short passwords", async () => {
    expect((await accounts.signUp("not-an-email", "long enough password")).ok).toBe(false);
    expect((await accounts.signUp("bo@example.com", "short")).ok).toBe(false);
  });

  it("signs in with the right password only", async () => {
    await accounts.signUp("ada@example.com", "long enough password");
    expect(await accounts.signIn("ada@example.com", "wrong password", "1.2.3.4")).toBe("invalid");
    expect(await accounts.signIn("nobody@example.com", "long enough password", "1.2.3.4")).toBe("invalid");
    const result = await accounts.signIn("ADA@example.com", "long enough password", "1.2.3.4");
    expect(result).toMatchObject({ user: { email: "ada@example.com" } });
  });

  it(`throttles after ${MAX_FAILURES} failures per email and address for the window`, async () => {
    await accounts.signUp("ada@example.com", "long enough password");
    for (let i = 0; i < MAX_FAILURES; i++) expect(await accounts.signIn("ada@example.com", "nope", "1.2.3.4")).toBe("invalid");
    expect(await accounts.signIn("ada@example.com", "long enough password", "1.2.3.4")).toBe("throttled");
    // Another address is not blocked by someone else's guessing.
    expect(await accounts.signIn("ada@example.com", "long enough password", "5.6.7.8")).toMatchObject({ user: {} });
    now = new Date(now.getTime() + WINDOW_MS + 1000);
    expect(await accounts.signIn("ada@example.com", "long enough password", "1.2.3.4")).toMatchObject({ user: {} });
  }, 30_000);
});
