/** Accounts in PostgreSQL (`pg`), used when `DATABASE_URL` is set: several web instances share it. */

import pg from "pg";
import type { AccountRepository, StoredApiToken, User } from "./repository";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS web_users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS web_login_failures (
  key TEXT NOT NULL,
  failed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS web_login_failures_key ON web_login_failures (key, failed_at);
CREATE TABLE IF NOT EXISTS web_api_tokens (
  id UUID PRIMARY KEY,
  subject TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL,
  last_used_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS web_api_tokens_subject ON web_api_tokens (subject, created_at);
`;

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  created_at: Date;
}

interface TokenRow {
  id: string;
  subject: string;
  name: string;
  secret_hash: string;
  created_at: Date;
  last_used_at: Date | null;
}

export class PostgresAccountRepository implements AccountRepository {
  private readonly pool: pg.Pool;
  private readonly ready: Promise<unknown>;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 5, connectionTimeoutMillis: 5000 });
    // An idle connection the server drops (restart, failover, shutdown) is reported here; with no
    // listener node-postgres throws it and the whole web app would exit. The pool discards that
    // connection and opens a new one on the next query.
    this.pool.on("error", (error) => console.warn(`accounts database: idle connection lost: ${error.message}`));
    // Tables are created once per process; every query waits for it.
    this.ready = this.pool.query(SCHEMA);
  }

  private async query<Row extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    await this.ready;
    return this.pool.query<Row>(sql, values);
  }

  async createUser(user: User): Promise<User | null> {
    const result = await this.query(
      "INSERT INTO web_users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
      [user.id, user.email, user.passwordHash, user.createdAt],
    );
    return result.rowCount === 1 ? user : null;
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const { rows } = await this.query<UserRow>("SELECT * FROM web_users WHERE email = $1", [email]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async findUserById(id: string): Promise<User | null> {
    const { rows } = await this.query<UserRow>("SELECT * FROM web_users WHERE id = $1", [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async deleteUser(id: string): Promise<void> {
    await this.query("DELETE FROM web_users WHERE id = $1", [id]);
  }

  async recordLoginFailure(key: string, at: Date): Promise<void> {
    await this.query("INSERT INTO web_login_failures (key, failed_at) VALUES ($1, $2)", [key, at]);
  }

  async countLoginFailures(key: string, since: Date): Promise<number> {
    const { rows } = await this.query<{ n: string }>(
      "SELECT count(*) AS n FROM web_login_failures WHERE key = $1 AND failed_at >= $2",
      [key, since],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.query("DELETE FROM web_login_failures WHERE key = $1", [key]);
  }

  async createApiToken(token: StoredApiToken): Promise<void> {
    await this.query(
      "INSERT INTO web_api_tokens (id, subject, name, secret_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6)",
      [token.id, token.subject, token.name, token.secretHash, token.createdAt, token.lastUsedAt],
    );
  }

  async listApiTokens(subject: string): Promise<StoredApiToken[]> {
    const { rows } = await this.query<TokenRow>(
      "SELECT * FROM web_api_tokens WHERE subject = $1 ORDER BY created_at DESC, id",
      [subject],
    );
    return rows.map(toToken);
  }

  async findApiTokenByHash(secretHash: string): Promise<StoredApiToken | null> {
    const { rows } = await this.query<TokenRow>("SELECT * FROM web_api_tokens WHERE secret_hash = $1", [secretHash]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  async touchApiToken(id: string, at: Date): Promise<void> {
    await this.query("UPDATE web_api_tokens SET last_used_at = $2 WHERE id = $1", [id, at]);
  }

  async revokeApiToken(subject: string, id: string): Promise<boolean> {
    const result = await this.query("DELETE FROM web_api_tokens WHERE subject = $1 AND id = $2", [subject, id]);
    return result.rowCount === 1;
  }

  async deleteApiTokensOf(subject: string): Promise<void> {
    await this.query("DELETE FROM web_api_tokens WHERE subject = $1", [subject]);
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.pool.end();
  }
}

function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, passwordHash: row.password_hash, createdAt: row.created_at };
}

function toToken(row: TokenRow): StoredApiToken {
  return {
    id: row.id,
    subject: row.subject,
    name: row.name,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}
