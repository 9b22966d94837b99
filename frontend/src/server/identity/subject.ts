/**
 * The namespaced user id (`sub`) the service trusts: `<sign-in method>:<id>`, e.g.
 * `credentials:<uuid>`, `github:42`. It only ever comes from a session or an API token.
 */

export const SUBJECT_PATTERN = /^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._@+-]{1,128}$/;

const CREDENTIALS = "credentials";

export function subjectOf(method: string, id: string): string {
  const subject = `${method}:${id}`;
  if (!SUBJECT_PATTERN.test(subject)) throw new Error(`cannot make a subject from ${method}/${id}`);
  return subject;
}

export function credentialsSubject(userId: string): string {
  return subjectOf(CREDENTIALS, userId);
}

/** The account id of a `credentials:` subject, or null for any other sign-in method. */
export function credentialsUserId(subject: string): string | null {
  return subject.startsWith(`${CREDENTIALS}:`) ? subject.slice(CREDENTIALS.length + 1) : null;
}
