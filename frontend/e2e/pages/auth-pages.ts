/** The sign-up and sign-in pages, as a person uses them. */

import type { Page } from "playwright-core";

export class AuthPages {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async openSignUp(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/sign-up`);
  }

  async signUp(email: string, password: string): Promise<void> {
    await this.openSignUp();
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password", { exact: true }).fill(password);
    await this.page.getByLabel("Confirm password").fill(password);
    await this.page.getByRole("button", { name: "Create account" }).click();
    await this.page.waitForURL(`${this.baseUrl}/`);
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/sign-in`);
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }

  /** The form's error message (waits for it). */
  errorText(): Promise<string> {
    return this.page.locator("#auth-error").innerText();
  }
}
