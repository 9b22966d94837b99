/** Accounts in a SQLite file (better-sqlite3): development, tests and single-instance setups. */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { AccountRepository, StoredApiToken, User } from "./repository";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT NOT NULL,
  failed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, failed_at);
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX IF NOT EXISTS api_tokens_subject ON api_tokens (subject, created_at);
`;

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  created_at: number;
}

interface TokenRow {
  id: string;
  subject: string;
  name: string;
  secret_hash: string;
  created_at: number;
  last_used_at: number | null;
}

export class SqliteAccountRepository implements AccountRepository {
  private readonly db: Database.Database;
  /** Prepared once per SQL text: preparing costs more than running these lookups. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async createUser(user: User): Promise<User | null> {
    const result = this
      .statement("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .run(user.id, user.email, user.passwordHash, user.createdAt.getTime());
    return result.changes === 1 ? user : null;
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const row = this.statement("SELECT * FROM users WHERE email = ?").get(email) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async findUserById(id: string): Promise<User | null> {
    const row = this.statement("SELECT * FROM users WHERE id = ?").get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async deleteUser(id: string): Promise<void> {
    this.statement("DELETE FROM users WHERE id = ?").run(id);
  }

  async recordLoginFailure(key: string, at: Date): Promise<void> {
    this.statement("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)").run(key, at.getTime());
  }

  async countLoginFailures(key: string, since: Date): Promise<number> {
    const row = this
      .statement("SELECT count(*) AS n FROM login_failures WHERE key = ? AND failed_at >= ?")
      .get(key, since.getTime()) as { n: number };
    return row.n;
  }

  async clearLoginFailures(key: string): Promise<void> {
    this.statement("DELETE FROM login_failures WHERE key = ?").run(key);
  }

  async createApiToken(token: StoredApiToken): Promise<void> {
    this
      .statement(
        "INSERT INTO api_tokens (id, subject, name, secret_hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(token.id, token.subject, token.name, token.secretHash, token.createdAt.getTime(),
        token.lastUsedAt?.getTime() ?? null);
  }

  async listApiTokens(subject: string): Promise<StoredApiToken[]> {
    const rows = this
      .statement("SELECT * FROM api_tokens WHERE subject = ? ORDER BY created_at DESC, id")
      .all(subject) as TokenRow[];
    return rows.map(toToken);
  }

  async findApiTokenByHash(secretHash: string): Promise<StoredApiToken | null> {
    const row = this.statement("SELECT * FROM api_tokens WHERE secret_hash = ?").get(secretHash) as
      | TokenRow
      | undefined;
    return row ? toToken(row) : null;
  }

  async touchApiToken(id: string, at: Date): Promise<void> {
    this.statement("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").run(at.getTime(), id);
  }

  async revokeApiToken(subject: string, id: string): Promise<boolean> {
    return this.statement("DELETE FROM api_tokens WHERE subject = ? AND id = ?").run(subject, id).changes === 1;
  }

  async deleteApiTokensOf(subject: string): Promise<void> {
    this.statement("DELETE FROM api_tokens WHERE subject = ?").run(subject);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, passwordHash: row.password_hash, createdAt: new Date(row.created_at) };
}

function toToken(row: TokenRow): StoredApiToken {
  return {
    id: row.id,
    subject: row.subject,
    name: row.name,
    secretHash: row.secret_hash,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  };
}
