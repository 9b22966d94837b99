/** Email + password accounts: sign-up rules, sign-in with throttling, and the subject they map to. */

import { randomUUID } from "node:crypto";
import { LoginThrottle } from "./login-throttle";
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  UNKNOWN_USER_HASH,
  hashPassword,
  verifyPassword,
} from "./passwords";
import type { AccountRepository, User } from "./repository";

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;

export type SignUpResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly problem: string };

export type SignInResult = { readonly user: User } | "invalid" | "throttled";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class CredentialAccounts {
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly repository: AccountRepository,
    now: () => Date = () => new Date(),
  ) {
    this.throttle = new LoginThrottle(repository, now);
  }

  async signUp(rawEmail: string, password: string): Promise<SignUpResult> {
    const email = normalizeEmail(rawEmail);
    if (!EMAIL.test(email)) return { ok: false, problem: "Enter a valid email address." };
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      return {
        ok: false,
        problem: `Use a password of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`,
      };
    }
    const user = await this.repository.createUser({
      id: randomUUID(),
      email,
      passwordHash: await hashPassword(password),
      createdAt: new Date(),
    });
    return user ? { ok: true, user } : { ok: false, problem: "An account with this email already exists." };
  }

  async signIn(rawEmail: string, password: string, address: string): Promise<SignInResult> {
    const email = normalizeEmail(rawEmail);
    const key = LoginThrottle.key(email, address);
    if (!(await this.throttle.allows(key))) return "throttled";
    const user = await this.repository.findUserByEmail(email);
    const matches = await verifyPassword(password, user?.passwordHash ?? UNKNOWN_USER_HASH);
    if (!user || !matches) {
      await this.throttle.failed(key);
      return "invalid";
    }
    await this.throttle.succeeded(key);
    return { user };
  }
}
