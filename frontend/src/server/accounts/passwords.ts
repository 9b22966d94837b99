/** Password hashing (bcrypt): slow on purpose, with a per-hash salt. */

import bcrypt from "bcryptjs";

const COST = 11;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 72; // bcrypt ignores bytes past 72

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

/**
 * A hash of a random password, compared against when the email is unknown so that a sign-in
 * takes as long for a missing account as for a wrong password.
 */
export const UNKNOWN_USER_HASH = bcrypt.hashSync("spotter-no-such-user", COST);
