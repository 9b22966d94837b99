/** The settings page: personal API tokens and account deletion. */

import type { Page } from "playwright-core";

export class SettingsPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/settings`);
    await this.page.getByRole("heading", { name: "Personal API tokens" }).waitFor();
  }

  /** Creates a token and returns its secret, shown once. */
  async createToken(name: string): Promise<string> {
    await this.page.getByLabel("Token name").fill(name);
    await this.page.getByRole("button", { name: "Create token" }).click();
    const secret = this.page.getByTestId("new-token");
    await secret.waitFor();
    return secret.innerText();
  }

  async revokeToken(name: string): Promise<void> {
    await this.page.getByRole("button", { name: `Revoke ${name}` }).click();
    await this.page.getByRole("button", { name: `Revoke ${name}` }).waitFor({ state: "detached" });
  }

  async deleteAccount(): Promise<void> {
    await this.page.getByRole("button", { name: "Delete my account" }).click();
    await this.page.getByRole("button", { name: "Yes, delete everything" }).click();
    await this.page.waitForURL(/\/sign-in\?deleted=1$/);
  }
}
