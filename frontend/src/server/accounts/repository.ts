/**
 * What the web app stores about people: credential accounts, failed sign-ins (for throttling)
 * and personal API tokens. One interface, two implementations: SQLite for development and
 * tests, PostgreSQL when `DATABASE_URL` is set.
 */

export interface User {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly createdAt: Date;
}

/** A personal API token as stored: only the SHA-256 hash of its secret is kept. */
export interface StoredApiToken {
  readonly id: string;
  /** The namespaced user id the token acts for, e.g. `credentials:<uuid>` or `github:42`. */
  readonly subject: string;
  readonly name: string;
  readonly secretHash: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

export interface AccountRepository {
  /** The new user, or null when the email is taken. */
  createUser(user: User): Promise<User | null>;
  findUserByEmail(email: string): Promise<User | null>;
  findUserById(id: string): Promise<User | null>;
  deleteUser(id: string): Promise<void>;

  recordLoginFailure(key: string, at: Date): Promise<void>;
  countLoginFailures(key: string, since: Date): Promise<number>;
  clearLoginFailures(key: string): Promise<void>;

  createApiToken(token: StoredApiToken): Promise<void>;
  /** The subject's tokens, newest first. */
  listApiTokens(subject: string): Promise<StoredApiToken[]>;
  findApiTokenByHash(secretHash: string): Promise<StoredApiToken | null>;
  touchApiToken(id: string, at: Date): Promise<void>;
  /** Whether a token of this subject was revoked (deleted). */
  revokeApiToken(subject: string, id: string): Promise<boolean>;
  deleteApiTokensOf(subject: string): Promise<void>;

  close(): Promise<void>;
}
