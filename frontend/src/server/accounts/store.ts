/** The process's account repository: PostgreSQL when `DATABASE_URL` is set, else SQLite. */

import { join, resolve } from "node:path";
import type { WebConfig } from "../config";
import type { AccountRepository } from "./repository";
import { SqliteAccountRepository } from "./sqlite-repository";

let opened: Promise<AccountRepository> | null = null;

export function accountRepository(config: WebConfig): Promise<AccountRepository> {
  opened ??= open(config);
  return opened;
}

async function open(config: WebConfig): Promise<AccountRepository> {
  if (config.databaseUrl) {
    // Loaded only when used, so SQLite-only setups never load `pg`.
    const { PostgresAccountRepository } = await import("./postgres-repository");
    return new PostgresAccountRepository(config.databaseUrl);
  }
  return new SqliteAccountRepository(join(resolve(config.dataDir), "accounts.sqlite3"));
}
