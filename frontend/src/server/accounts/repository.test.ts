/** The same contract for both account stores: SQLite always, PostgreSQL when Debian's server is installed. */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, postgresBinaries, startPostgres } from "@/test-support/postgres-server";
import { PostgresAccountRepository } from "./postgres-repository";
import type { AccountRepository, StoredApiToken } from "./repository";
import { SqliteAccountRepository } from "./sqlite-repository";

interface Store {
  open(): Promise<AccountRepository>;
  close(): Promise<void>;
}

function sqliteStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), "spotter-repo-"));
  return {
    open: async () => new SqliteAccountRepository(join(dir, "accounts.sqlite3")),
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresStore(bin: string): Store {
  let server: PostgresServer | null = null;
  return {
    async open() {
      server ??= await startPostgres(bin);
      return new PostgresAccountRepository(server.url);
    },
    close: async () => server?.stop(),
  };
}

const bin = postgresBinaries();
const stores: [string, () => Store, boolean][] = [
  ["SQLite", sqliteStore, true],
  ["PostgreSQL", () => postgresStore(bin ?? ""), bin !== null],
];

for (const [name, makeStore, available] of stores) {
  describe.skipIf(!available)(`${name} account repository`, () => {
    const store = makeStore();
    let repository: AccountRepository;

    beforeAll(async () => {
      repository = await store.open();
    }, 60_000);

    afterAll(async () => {
      await repository?.close();
      await store.close();
    });

    it("creates users once per email and finds them", async () => {
      const user = { id: randomUUID(), email: `${randomUUID()}@example.com`, passwordHash: "$2b$hash", createdAt: new Date("2026-11-25T10:00:00Z") };
      expect(await repository.createUser(user)).toEqual(user);
      expect(await repository.createUser({ ...user, id: randomUUID() })).toBeNull();
      expect(await repository.findUserByEmail(user.email)).toEqual(user);
      expect(await repository.findUserById(user.id)).toEqual(user);
      await repository.deleteUser(user.id);
      expect(await repository.findUserById(user.id)).toBeNull();
    });

    it("counts login failures in a window and clears them", async () => {
      const key = `${randomUUID()}|127.0.0.1`;
      await repository.recordLoginFailure(key, new Date("2026-11-25T10:00:00Z"));
      await repository.recordLoginFailure(key, new Date("2026-11-25T10:10:00Z"));
      expect(await repository.countLoginFailures(key, new Date("2026-11-25T10:05:00Z"))).toBe(1);
      expect(await repository.countLoginFailures(key, new Date("2026-11-25T09:00:00Z"))).toBe(2);
      await repository.clearLoginFailures(key);
      expect(await repository.countLoginFailures(key, new Date(0))).toBe(0);
    });

    it("stores, lists, touches and revokes API tokens per subject", async () => {
      const subject = `github:${randomUUID()}`;
      const token: StoredApiToken = {
        id: randomUUID(),
        subject,
        name: "phone",
        secretHash: randomUUID().replaceAll("-", ""),
        createdAt: new Date("2026-11-25T10:00:00Z"),
        lastUsedAt: null,
      };
      await repository.createApiToken(token);
      expect(await repository.listApiTokens(subject)).toEqual([token]);
      expect(await repository.findApiTokenByHash(token.secretHash)).toEqual(token);
      const used = new Date("2026-11-25T11:00:00Z");
      await repository.touchApiToken(token.id, used);
      expect((await repository.findApiTokenByHash(token.secretHash))?.lastUsedAt).toEqual(used);
      expect(await repository.revokeApiToken("github:someone-else", token.id)).toBe(false);
      expect(await repository.revokeApiToken(subject, token.id)).toBe(true);
      expect(await repository.findApiTokenByHash(token.secretHash)).toBeNull();
      await repository.createApiToken({ ...token, id: randomUUID(), secretHash: "other" });
      await repository.deleteApiTokensOf(subject);
      expect(await repository.listApiTokens(subject)).toEqual([]);
    });
  });
}

describe.skipIf(bin === null)("PostgreSQL account repository when the server drops its connections", () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres(bin ?? "");
  }, 60_000);

  afterAll(async () => server?.stop());

  it("keeps working: the dropped idle connections are replaced, the process does not crash", async () => {
    const repository = new PostgresAccountRepository(server.url);
    try {
      expect(await repository.findUserById(randomUUID())).toBeNull(); // an idle pooled connection now
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        // What a restart or failover does to every other session.
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'");
      } finally {
        await admin.end();
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // the pool hears of it
      expect(await repository.findUserById(randomUUID())).toBeNull();
    } finally {
      await repository.close();
    }
  });
});
