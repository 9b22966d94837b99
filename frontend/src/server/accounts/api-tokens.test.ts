import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiTokens, LAST_USE_RESOLUTION_MS, hashTokenSecret } from "./api-tokens";
import { SqliteAccountRepository } from "./sqlite-repository";

let dir: string;
let repository: SqliteAccountRepository;
let tokens: ApiTokens;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spotter-tokens-"));
  repository = new SqliteAccountRepository(join(dir, "accounts.sqlite3"));
  tokens = new ApiTokens(repository);
});

afterEach(async () => {
  await repository.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("ApiTokens", () => {
  it("creates spt_ + 32 random bytes, stores only the SHA-256 hash, shows the secret once", async () => {
    const created = await tokens.create("github:42", "My phone");
    expect(created.token).toMatch(/^spt_[A-Za-z0-9_-]{43}$/);
    const [stored] = await repository.listApiTokens("github:42");
    expect(stored?.secretHash).toBe(hashTokenSecret(created.token));
    expect(stored?.secretHash).toMatch(/^[0-9a-f]{64}$/);
    const listed = await tokens.list("github:42");
    expect(listed).toEqual([{ id: created.id, name: "My phone", created_at: created.created_at, last_used_at: null }]);
  });

  it("authenticates, records the last use, and stops once revoked", async () => {
    const created = await tokens.create("github:42", "script");
    expect(await tokens.authenticate(created.token)).toBe("github:42");
    expect((await tokens.list("github:42"))[0]?.last_used_at).not.toBeNull();
    expect(await tokens.revoke("github:7", created.id)).toBe(false);
    expect(await tokens.revoke("github:42", created.id)).toBe(true);
    expect(await tokens.authenticate(created.token)).toBeNull();
  });

  it("records the last use to the resolution, not on every request", async () => {
    let now = new Date("2026-03-01T10:00:00Z");
    const clocked = new ApiTokens(repository, () => now);
    const created = await clocked.create("github:42", "loop");
    const lastUsed = async () => (await clocked.list("github:42"))[0]?.last_used_at;

    expect(await clocked.authenticate(created.token)).toBe("github:42");
    expect(await lastUsed()).toBe("2026-03-01T10:00:00.000Z");
    now = new Date(now.getTime() + LAST_USE_RESOLUTION_MS - 1);
    expect(await clocked.authenticate(created.token)).toBe("github:42");
    expect(await lastUsed()).toBe("2026-03-01T10:00:00.000Z");
    now = new Date(Date.parse("2026-03-01T10:00:00Z") + LAST_USE_RESOLUTION_MS);
    expect(await clocked.authenticate(created.token)).toBe("github:42");
    expect(await lastUsed()).toBe("2026-03-01T10:01:00.000Z");
  });

  it("lists only the subject's own tokens, newest first", async () => {
    const first = await new ApiTokens(repository, () => new Date("2026-01-01")).create("github:42", "old");
    const second = await new ApiTokens(repository, () => new Date("2026-02-01")).create("github:42", "new");
    await tokens.create("google:9", "someone else");
    expect((await tokens.list("github:42")).map((t) => t.id)).toEqual([second.id, first.id]);
  });
});
