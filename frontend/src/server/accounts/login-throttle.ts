/**
 * Refuses sign-in after too many failures for one email from one address, so passwords cannot
 * be guessed quickly. Failures are stored in the account repository so every instance agrees.
 */

import type { AccountRepository } from "./repository";

export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60 * 1000;

export class LoginThrottle {
  constructor(
    private readonly repository: AccountRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static key(email: string, address: string): string {
    return `${email.toLowerCase()}|${address}`;
  }

  /** Whether this email and address may try again now. */
  async allows(key: string): Promise<boolean> {
    const since = new Date(this.now().getTime() - WINDOW_MS);
    return (await this.repository.countLoginFailures(key, since)) < MAX_FAILURES;
  }

  async failed(key: string): Promise<void> {
    await this.repository.recordLoginFailure(key, this.now());
  }

  async succeeded(key: string): Promise<void> {
    await this.repository.clearLoginFailures(key);
  }
}
