/**
 * Mints the short-lived service token (HS256 JWT) that is the only identity the service
 * trusts: `sub` from the session or API token, `aud` spotter, `iss` spotter-web.
 */

import { SignJWT } from "jose";
import { SUBJECT_PATTERN } from "../identity/subject";

export const SERVICE_TOKEN_AUDIENCE = "spotter";
export const SERVICE_TOKEN_ISSUER = "spotter-web";
export const SERVICE_TOKEN_LIFETIME_SECONDS = 120;

export async function mintServiceToken(secret: Uint8Array, subject: string, now = Date.now()): Promise<string> {
  if (!SUBJECT_PATTERN.test(subject)) throw new Error("refusing to mint a service token for an invalid subject");
  const issuedAt = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject)
    .setAudience(SERVICE_TOKEN_AUDIENCE)
    .setIssuer(SERVICE_TOKEN_ISSUER)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + SERVICE_TOKEN_LIFETIME_SECONDS)
    .sign(secret);
}
