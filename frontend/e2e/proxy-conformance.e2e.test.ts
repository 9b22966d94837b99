/**
 * The proxy in the production build (`next build` + `next start`) against the real service:
 * unbuffered streaming, no compression, client aborts reaching the service, API tokens, and a
 * service that is down.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { closedPort } from "@/test-support/loopback-upstream";
import { stop } from "./support/processes";
import { answerText, readTimed } from "./support/sse";
import { signedInCaller } from "./support/web-accounts";
import { startWeb } from "./support/web-server";

const { webUrl, webDataDir } = inject("servers");
let caller: { subject: string; cookie: string };

beforeAll(async () => {
  caller = await signedInCaller(webDataDir, `conformance-${randomUUID()}@example.com`);
});

function chat(conversationId: string, message: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${webUrl}/api/v1/chat`, {
    method: "POST",
    headers: {
      cookie: caller.cookie,
      "content-type": "application/json",
      accept: "text/event-stream",
      "accept-encoding": "gzip, deflate, br",
      "x-conversation-id": conversationId,
      ...headers,
    },
    body: JSON.stringify({ message }),
    signal,
  });
}

describe("the proxy in the production build", () => {
  it("delivers the first event while the service is still streaming, uncompressed", async () => {
    const started = performance.now();
    const response = await chat(randomUUID(), "How many sets of squats should a beginner do?");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("content-encoding")).toBeNull();
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    const events = await readTimed(response);
    const first = events[0];
    const last = events.at(-1);
    expect(first?.event.event).toBe("retrieval_start");
    expect(last?.event.event).toBe("done");
    // Tokens come every 50 ms upstream: a buffering proxy would deliver everything at the end.
    expect((last?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThan(1000);
    expect((first?.at ?? 0) - started).toBeLessThan((last?.at ?? 0) - started - 1000);
    const arrivals = new Set(events.map((e) => Math.round(e.at / 25)));
    expect(arrivals.size).toBeGreaterThan(10);
  });

  it("drops the service's turn when the client aborts", async () => {
    const conversation = randomUUID();
    const client = new AbortController();
    const response = await chat(conversation, "How should I warm up before squats?", {}, client.signal);
    expect(response.status).toBe(200);
    await readTimed(response, 4); // the answer has started
    client.abort();
    // Had the proxy kept the upstream request open, the turn would stream on for seconds and
    // a new turn in the conversation would be refused as busy (409).
    const deadline = Date.now() + 3000;
    let status = 409;
    while (status === 409 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const next = await chat(conversation, "And after?", { "x-conversation-turn": "0" });
      status = next.status;
      await next.body?.cancel();
    }
    expect(status).toBe(200);
  });

  it("accepts a personal API token and refuses it once revoked", async () => {
    const created = await fetch(`${webUrl}/api/v1/tokens`, {
      method: "POST",
      headers: { cookie: caller.cookie, "content-type": "application/json" },
      body: JSON.stringify({ name: "conformance" }),
    });
    expect(created.status).toBe(201);
    const { id, token } = (await created.json()) as { id: string; token: string };
    const withToken = () => fetch(`${webUrl}/api/v1/workouts`, { headers: { authorization: `Bearer ${token}` } });
    const ok = await withToken();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ items: [] });
    const chatWithToken = await fetch(`${webUrl}/api/v1/chat`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-conversation-id": randomUUID() },
      body: JSON.stringify({ message: "Hello" }),
    });
    expect(chatWithToken.status).toBe(200);
    expect(answerText(await readTimed(chatWithToken)).length).toBeGreaterThan(0);
    const revoked = await fetch(`${webUrl}/api/v1/tokens/${id}`, { method: "DELETE", headers: { cookie: caller.cookie } });
    expect(revoked.status).toBe(204);
    const refused = await withToken();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: "urn:spotter:problem:unauthorized" });
  });

  it("answers 401 problems without credentials", async () => {
    const response = await fetch(`${webUrl}/api/v1/workouts`);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:unauthorized", status: 401 });
    const unknown = await fetch(`${webUrl}/api/v1/no-such-thing`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: "urn:spotter:problem:not-found" });
  });

  describe("with the service down", () => {
    let down: Awaited<ReturnType<typeof startWeb>>;
    let dataDir: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "spotter-e2e-down-"));
      down = await startWeb("web-service-down", `http://127.0.0.1:${await closedPort()}`, dataDir);
    });

    afterAll(async () => {
      await stop(down.process);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("answers 503 service-unreachable with Retry-After", async () => {
      const other = await signedInCaller(dataDir, "down@example.com");
      const response = await fetch(`${down.url}/api/v1/workouts`, { headers: { cookie: other.cookie } });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toMatch(/^[0-9]+$/);
      expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:service-unreachable", status: 503 });
    });
  });
});
