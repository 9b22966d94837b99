/**
 * Mints the short-lived service token (HS256 JWT) that is the only identity the service
 * trusts: `sub` from the session or API token, `aud` spotter, `iss` spotter-web.
 *
 * Signed with `node:crypto`'s HMAC synchronously (about 20 us), not WebCrypto: `crypto.subtle`
 * runs every HMAC as a libuv thread-pool job, a round trip of 0.3-0.7 ms on a busy core that
 * sat on every forwarded request's way to the service.
 */

import { createHmac } from "node:crypto";
import { SUBJECT_PATTERN } from "../identity/subject";

export const SERVICE_TOKEN_AUDIENCE = "spotter";
export const SERVICE_TOKEN_ISSUER = "spotter-web";
export const SERVICE_TOKEN_LIFETIME_SECONDS = 120;

const HEADER = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

export function mintServiceToken(secret: Uint8Array, subject: string, now = Date.now()): string {
  if (!SUBJECT_PATTERN.test(subject)) throw new Error("refusing to mint a service token for an invalid subject");
  const issuedAt = Math.floor(now / 1000);
  const claims = {
    sub: subject,
    aud: SERVICE_TOKEN_AUDIENCE,
    iss: SERVICE_TOKEN_ISSUER,
    iat: issuedAt,
    exp: issuedAt + SERVICE_TOKEN_LIFETIME_SECONDS,
  };
  const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${createHmac("sha256", secret).update(signingInput).digest("base64url")}`;
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
