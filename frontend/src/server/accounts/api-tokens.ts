/**
 * Personal API tokens: `spt_` + 32 random bytes (base64url), shown once, stored as a SHA-256
 * hash so a leaked database does not leak usable tokens. A revoked token is deleted.
 * Its last use is recorded to the minute: a token used in a loop would otherwise cost a
 * database write (and, every thousand, a WAL checkpoint) on every request's way in.
 */

import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { components } from "@/generated/openapi";
import type { AccountRepository, StoredApiToken } from "./repository";

type ApiToken = components["schemas"]["ApiToken"];
type CreatedApiToken = components["schemas"]["CreatedApiToken"];

export const TOKEN_PREFIX = "spt_";
const SECRET_PATTERN = /^spt_[A-Za-z0-9_-]{43}$/;
/** How stale `last_used_at` may be: a use within this long of the recorded one is not written. */
export const LAST_USE_RESOLUTION_MS = 60_000;

export function hashTokenSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export class ApiTokens {
  constructor(
    private readonly repository: AccountRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(subject: string, name: string): Promise<CreatedApiToken> {
    const secret = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const stored: StoredApiToken = {
      id: randomUUID(),
      subject,
      name,
      secretHash: hashTokenSecret(secret),
      createdAt: this.now(),
      lastUsedAt: null,
    };
    await this.repository.createApiToken(stored);
    return { ...present(stored), token: secret };
  }

  async list(subject: string): Promise<ApiToken[]> {
    return (await this.repository.listApiTokens(subject)).map(present);
  }

  revoke(subject: string, id: string): Promise<boolean> {
    return this.repository.revokeApiToken(subject, id);
  }

  /** The subject a valid token acts for (recording its use), or null. */
  async authenticate(secret: string): Promise<string | null> {
    if (!SECRET_PATTERN.test(secret)) return null;
    const token = await this.repository.findApiTokenByHash(hashTokenSecret(secret));
    if (!token) return null;
    const now = this.now();
    if (token.lastUsedAt === null || now.getTime() - token.lastUsedAt.getTime() >= LAST_USE_RESOLUTION_MS) {
      await this.repository.touchApiToken(token.id, now);
    }
    return token.subject;
  }
}

function present(token: StoredApiToken): ApiToken {
  return {
    id: token.id,
    name: token.name,
    created_at: token.createdAt.toISOString(),
    last_used_at: token.lastUsedAt?.toISOString() ?? null,
  };
}
