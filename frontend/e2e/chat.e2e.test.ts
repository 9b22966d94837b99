/**
 * Spotter in real Chromium against the real service and the production build, as a person
 * uses it: sign up, ask, follow up, start over, lose memory, stop, log a workout, reconnect,
 * stay private from another user, manage tokens, delete the account. Screenshots of the main
 * states go to test-results/screenshots/ (docs/screenshots/ with `make screenshots`).
 */

import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { SignJWT } from "jose";
import type { Browser, BrowserContext, Page, Request as BrowserRequest } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SqliteAccountRepository } from "@/server/accounts/sqlite-repository";
import { AuthPages } from "./pages/auth-pages";
import { ChatPage } from "./pages/chat-page";
import { SettingsPage } from "./pages/settings-page";
import { WorkoutsPage } from "./pages/workouts-page";
import { launchChromium, screenshot } from "./support/browser";
import { startRelay } from "./support/cuttable-relay";
import { MEMORY_TTL_SECONDS, SERVICE_SECRET } from "./support/environment";

const { webUrl, serviceUrl, webDataDir } = inject("servers");
const PASSWORD = "e2e password 123";

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function newUserPage(viewport = { width: 1180, height: 860 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, baseURL: webUrl });
  const page = await context.newPage();
  return { context, page };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Spotter in the browser", () => {
  const email = `ada-${randomUUID().slice(0, 8)}@example.com`;
  let context: BrowserContext;
  let page: Page;
  let chat: ChatPage;

  beforeAll(async () => {
    ({ context, page } = await newUserPage());
    chat = new ChatPage(page, webUrl);
  });

  afterAll(async () => {
    await context?.close();
  });

  it("sends a visitor to sign-in, and signs up", async () => {
    await page.goto(`${webUrl}/`);
    await page.waitForURL(/\/sign-in/);
    const auth = new AuthPages(page, webUrl);
    await auth.openSignUp();
    await page.getByLabel("Email").fill(email);
    await screenshot(page, "sign-up");
    await auth.signUp(email, PASSWORD);
    await chat.open();
    expect(await chat.conversationId()).toMatch(/^[0-9a-f-]{36}$/);
    await screenshot(page, "chat-empty");
  });

  it("refuses a wrong password and signs in with the right one", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in/);
    const auth = new AuthPages(page, webUrl);
    await auth.signIn(email, "not my password");
    expect(await auth.errorText()).toContain("Wrong email or password");
    await auth.signIn(email, PASSWORD);
    await page.waitForURL(`${webUrl}/`);
  });

  it("shows progress, then streams a cited answer", async () => {
    await chat.open();
    await chat.send("How many sets of squats should a beginner do?");
    await expect(page.getByRole("button", { name: "Stop" }).isVisible()).resolves.toBe(true);
    await chat.waitForPhase(0, ["answering"]);
    await page.waitForFunction(() => (document.querySelector(".message-answer .markdown")?.textContent?.length ?? 0) > 40);
    const partial = await chat.answerText(0);
    await expect(chat.answer(0).locator(".progress-found").innerText()).resolves.toMatch(/^Found \d+ sources?/);
    await screenshot(page, "chat-streaming");
    expect(await chat.waitForFinished(0)).toBe("done");
    const full = await chat.answerText(0);
    expect(full.length).toBeGreaterThan(partial.length);
    expect(await chat.answer(0).locator("a.citation").count()).toBeGreaterThan(0);
    expect(await chat.answer(0).locator(".sources li").count()).toBeGreaterThan(0);
    // Raw HTML in Markdown is never rendered.
    expect(await chat.answer(0).locator(".markdown script, .markdown iframe").count()).toBe(0);
    await screenshot(page, "chat-answer");
  });

  it("answers a follow-up with the previous turn in mind", async () => {
    await chat.newChat();
    await chat.send("I have a bad left knee and I train three days a week.");
    expect(await chat.waitForFinished(0)).toBe("done");
    await chat.send("Which squat variation should I do?");
    expect(await chat.waitForFinished(1)).toBe("done");
    expect(await chat.answerText(1)).toContain("bad left knee");
    await screenshot(page, "chat-follow-up");
  });

  it("forgets the context after New chat", async () => {
    const before = await chat.conversationId();
    await chat.newChat();
    expect(await chat.conversationId()).not.toBe(before);
    expect(await chat.answers().count()).toBe(0);
    await chat.send("Which squat variation should I do?");
    expect(await chat.waitForFinished(0)).toBe("done");
    expect(await chat.answerText(0)).not.toContain("bad left knee");
  });

  it("says so when the conversation's memory expired, and resends in one click", async () => {
    await chat.newChat();
    await chat.send("I deadlift twice a week.");
    expect(await chat.waitForFinished(0)).toBe("done");
    await sleep((MEMORY_TTL_SECONDS + 2) * 1000);
    await chat.send("How should I progress my deadlift?");
    await chat.checkpointNotice(1).waitFor();
    expect(await chat.checkpointNotice(1).innerText()).toMatch(/Memory reset[\s\S]*idle too long/);
    expect(await chat.waitForFinished(1)).toBe("done");
    await screenshot(page, "chat-memory-reset");
    await chat.checkpointNotice(1).getByRole("button", { name: "Resend with my earlier messages" }).click();
    expect(await chat.waitForFinished(2)).toBe("done");
    await expect(page.locator(".message-user").nth(2).innerText()).resolves.toContain("I deadlift twice a week.");
    expect(await chat.checkpointNotice(2).count()).toBe(0);
  });

  it("stops a streaming answer", async () => {
    await chat.newChat();
    await chat.send("How should I warm up before heavy squats?");
    await chat.waitForPhase(0, ["answering"]);
    await page.waitForFunction(() => (document.querySelector(".message-answer .markdown")?.textContent?.length ?? 0) > 20);
    await chat.stop();
    expect(await chat.waitForFinished(0, 10_000)).toBe("stopped");
    const stopped = await chat.answerText(0);
    await sleep(1500);
    expect(await chat.answerText(0)).toBe(stopped);
    await expect(page.getByRole("button", { name: "Send" }).isVisible()).resolves.toBe(true);
    await screenshot(page, "chat-stopped");
    // The conversation goes on after a stop.
    await chat.send("Thanks. And after the session?");
    expect(await chat.waitForFinished(1)).toBe("done");
  });

  it("logs a workout and sees it cited as the user's own", async () => {
    const workouts = new WorkoutsPage(page, webUrl);
    await workouts.open();
    await workouts.log({
      title: "Tempo squat session",
      notes: "Tempo squats 3 seconds down, knee felt fine.",
      sets: [
        { exercise: "Tempo back squat", reps: 5, load: 80, unit: "kg", rpe: 7.5 },
        { exercise: "Walking lunge", reps: 12 },
      ],
    });
    expect(await workouts.titles()).toContain("Tempo squat session");
    await screenshot(page, "workouts");
    await chat.open();
    await chat.send("What did I do in my tempo squat session?");
    expect(await chat.waitForFinished(0)).toBe("done");
    const own = chat.answer(0).locator(".sources li", { has: page.locator(".badge-workout") });
    expect(await own.count()).toBeGreaterThan(0);
    expect(await own.first().innerText()).toContain("Tempo squat session");
    await screenshot(page, "chat-workout-cited");
  });

  it("reconnects after a network drop and shows one continuous answer", async () => {
    const question = "How do I brace my core for a deadlift?";
    // The same question in a fresh conversation gets the same (deterministic, offline) answer.
    await chat.open();
    await chat.send(question);
    expect(await chat.waitForFinished(0)).toBe("done");
    const expected = await chat.answerText(0);

    const relay = await startRelay(new URL(webUrl));
    try {
      const chatRequests: BrowserRequest[] = [];
      const onRequest = (request: BrowserRequest) => {
        if (request.url().endsWith("/api/v1/chat")) chatRequests.push(request);
      };
      page.on("request", onRequest);
      const viaRelay = new ChatPage(page, relay.url);
      await viaRelay.open();
      await viaRelay.send(question);
      await page.waitForFunction(() => (document.querySelector(".message-answer .markdown")?.textContent?.length ?? 0) > 60);
      relay.cut();
      expect(await viaRelay.waitForFinished(0)).toBe("done");
      page.off("request", onRequest);
      expect(await viaRelay.answerText(0)).toBe(expected);
      expect(chatRequests.length).toBeGreaterThanOrEqual(2);
      const [first, second] = chatRequests;
      expect(second?.headers()["idempotency-key"]).toBe(first?.headers()["idempotency-key"]);
      expect(Number(second?.headers()["last-event-id"])).toBeGreaterThan(0);
    } finally {
      await relay.close();
    }
  });

  it("never shows one user's conversation to another using the same conversation id", async () => {
    await chat.open();
    await chat.send("My codeword is plum-seven-seven.");
    expect(await chat.waitForFinished(0)).toBe("done");
    await chat.send("What else should I know about squats?");
    expect(await chat.waitForFinished(1)).toBe("done");
    expect(await chat.answerText(1)).toContain("plum-seven-seven"); // the phrase is in A's memory
    const conversationId = await chat.conversationId();

    const other = await newUserPage();
    try {
      await new AuthPages(other.page, webUrl).signUp(`bob-${randomUUID().slice(0, 8)}@example.com`, PASSWORD);
      const texts = await other.page.evaluate(async (id) => {
        const results: string[] = [];
        for (const turn of ["0", "1"]) {
          const response = await fetch("/api/v1/chat", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-Conversation-Id": id ?? "", "X-Conversation-Turn": turn },
            body: JSON.stringify({ message: "What else should I know about squats?" }),
          });
          results.push(`${response.status}\n${await response.text()}`);
        }
        return results;
      }, conversationId);
      for (const text of texts) {
        expect(text.startsWith("200")).toBe(true);
        expect(text).toContain("event: done");
        expect(text.toLowerCase()).not.toContain("plum");
      }
    } finally {
      await other.context.close();
    }
  });

  it("creates, uses and revokes a personal API token", async () => {
    const settings = new SettingsPage(page, webUrl);
    await settings.open();
    const token = await settings.createToken("My phone");
    expect(token).toMatch(/^spt_[A-Za-z0-9_-]{43}$/);
    const withToken = () => fetch(`${webUrl}/api/v1/workouts`, { headers: { authorization: `Bearer ${token}` } });
    expect((await withToken()).status).toBe(200);
    await page.reload();
    await page.getByText("last used").waitFor();
    await settings.createToken("Laptop script");
    await screenshot(page, "settings-tokens");
    await settings.revokeToken("My phone");
    expect((await withToken()).status).toBe(401);
  });

  it("is usable at phone width", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await chat.open();
    await chat.send("How many rest days do I need?");
    expect(await chat.waitForFinished(0)).toBe("done");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "chat-phone");
    await page.setViewportSize({ width: 1180, height: 860 });
  });

  it("deletes the account and erases its data in the service", async () => {
    const repository = new SqliteAccountRepository(join(webDataDir, "accounts.sqlite3"));
    const user = await repository.findUserByEmail(email);
    await repository.close();
    expect(user).not.toBeNull();
    const subject = `credentials:${user?.id}`;
    const serviceToken = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(subject)
      .setAudience("spotter")
      .setIssuer("spotter-web")
      .setIssuedAt()
      .setExpirationTime("2m")
      .sign(new TextEncoder().encode(SERVICE_SECRET));
    const workouts = async () =>
      ((await (await fetch(`${serviceUrl}/v1/workouts`, { headers: { authorization: `Bearer ${serviceToken}` } })).json()) as { items: unknown[] }).items;
    expect((await workouts()).length).toBeGreaterThan(0);

    const settings = new SettingsPage(page, webUrl);
    await settings.open();
    await settings.deleteAccount();
    await page.getByText("Your account and all of its data were deleted.").waitFor();
    await screenshot(page, "account-deleted");
    expect(await workouts()).toEqual([]);
    const auth = new AuthPages(page, webUrl);
    await auth.signIn(email, PASSWORD);
    expect(await auth.errorText()).toContain("Wrong email or password");
  });
});
