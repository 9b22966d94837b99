/** The chat page, as a person uses it: type, send, watch the answer, stop, start over. */

import type { Locator, Page } from "playwright-core";

const FINISHED = ["done", "stopped", "failed"];

export class ChatPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/`);
    await this.page.locator("[data-conversation-id]").waitFor();
  }

  conversationId(): Promise<string | null> {
    return this.page.locator("[data-conversation-id]").getAttribute("data-conversation-id");
  }

  get input(): Locator {
    return this.page.getByLabel("Message", { exact: true });
  }

  /** Types the message and presses Enter. */
  async send(text: string): Promise<void> {
    await this.input.fill(text);
    await this.input.press("Enter");
  }

  answers(): Locator {
    return this.page.locator(".message-answer");
  }

  answer(index: number): Locator {
    return this.answers().nth(index);
  }

  async waitForPhase(index: number, phases: string[], timeout = 60_000): Promise<string> {
    const answer = this.answer(index);
    await answer.waitFor();
    const handle = await answer.elementHandle();
    await this.page.waitForFunction(
      ([element, wanted]) => wanted.includes((element as HTMLElement).dataset.phase ?? ""),
      [handle, phases] as const,
      { timeout },
    );
    return (await answer.getAttribute("data-phase")) ?? "";
  }

  waitForFinished(index: number, timeout = 60_000): Promise<string> {
    return this.waitForPhase(index, FINISHED, timeout);
  }

  answerText(index: number): Promise<string> {
    return this.answer(index).locator(".markdown").innerText();
  }

  async stop(): Promise<void> {
    await this.page.getByRole("button", { name: "Stop" }).click();
  }

  async newChat(): Promise<void> {
    const before = await this.conversationId();
    await this.page.getByRole("button", { name: "New chat" }).click();
    await this.page.waitForFunction(
      (previous) => document.querySelector("[data-conversation-id]")?.getAttribute("data-conversation-id") !== previous,
      before,
    );
  }

  checkpointNotice(index: number): Locator {
    return this.answer(index).getByTestId("checkpoint");
  }
}
