/**
 * Who is calling: the subject of an Auth.js session cookie or of a personal API token
 * (`Authorization: Bearer spt_...`). Nothing in the request besides those two is trusted.
 *
 * Decrypting a session cookie costs about 1-1.5 ms (WebCrypto HKDF and AES jobs on the libuv
 * thread pool), so a cookie that decoded is remembered, by its exact text and the secret, for
 * at most a minute and never past its own expiry. Decoding is a pure function of those, so
 * this accepts nothing a fresh decode would refuse; the deleted-account check still runs on
 * every request.
 */

import { decode } from "next-auth/jwt";
import { ApiTokens } from "../accounts/api-tokens";
import type { AccountRepository } from "../accounts/repository";
import { SUBJECT_PATTERN, credentialsUserId } from "../identity/subject";

export interface Caller {
  readonly subject: string;
  readonly via: "session" | "api-token";
}

/** Auth.js's session cookie names: `__Secure-` over https, plain over http (development). */
export const SESSION_COOKIES = ["__Secure-authjs.session-token", "authjs.session-token"] as const;

export interface CallerSources {
  readonly authSecret: string;
  readonly repository: AccountRepository;
}

/** The caller, or null when the request carries no valid credentials (or an API token where none is allowed). */
export async function identifyCaller(request: Request, sources: CallerSources, acceptsApiToken: boolean): Promise<Caller | null> {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    if (!acceptsApiToken) return null;
    const match = /^Bearer (spt_\S+)$/.exec(authorization.trim());
    if (!match?.[1]) return null;
    const subject = await new ApiTokens(sources.repository).authenticate(match[1]);
    return subject ? { subject, via: "api-token" } : null;
  }
  const subject = await sessionSubject(request.headers.get("cookie"), sources.authSecret);
  if (!subject) return null;
  const userId = credentialsUserId(subject);
  // A deleted account's session cookie may outlive it; it must not act for anyone.
  if (userId !== null && !(await sources.repository.findUserById(userId))) return null;
  return { subject, via: "session" };
}

/** How long a decoded session cookie is remembered (at most; never past its `exp`). */
export const DECODED_SESSION_TTL_MS = 60_000;
const DECODED_SESSION_LIMIT = 1_000;
const decodedSessions = new Map<string, { readonly subject: string; readonly until: number }>();

async function sessionSubject(cookieHeader: string | null, secret: string): Promise<string | null> {
  if (!cookieHeader) return null;
  const cookies = parseCookies(cookieHeader);
  for (const name of SESSION_COOKIES) {
    const token = joinChunks(cookies, name);
    if (!token) continue;
    const key = `${secret}\n${name}\n${token}`;
    const now = Date.now();
    const remembered = decodedSessions.get(key);
    if (remembered && remembered.until > now) return remembered.subject;
    decodedSessions.delete(key);
    try {
      const session = await decode({ token, secret, salt: name });
      const subject = session?.subject;
      if (typeof subject === "string" && SUBJECT_PATTERN.test(subject)) {
        const expires = typeof session?.exp === "number" ? session.exp * 1000 : now;
        remember(key, subject, Math.min(now + DECODED_SESSION_TTL_MS, expires));
        return subject;
      }
    } catch {
      // Not a session of ours (wrong key, tampered, expired): try the other name, then refuse.
    }
  }
  return null;
}

function remember(key: string, subject: string, until: number): void {
  if (decodedSessions.size >= DECODED_SESSION_LIMIT) {
    const oldest = decodedSessions.keys().next();
    if (!oldest.done) decodedSessions.delete(oldest.value);
  }
  decodedSessions.set(key, { subject, until });
}

function parseCookies(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      cookies.set(name, value);
    }
  }
  return cookies;
}

/** Auth.js splits large session cookies into `<name>.0`, `<name>.1`, ... */
function joinChunks(cookies: Map<string, string>, name: string): string | null {
  const whole = cookies.get(name);
  if (whole) return whole;
  const chunks: string[] = [];
  for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks.push(cookies.get(`${name}.${i}`) ?? "");
  return chunks.length ? chunks.join("") : null;
}
