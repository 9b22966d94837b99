import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ProxyFixture, proxyFixture } from "@/test-support/proxy-fixture";
import { type LoopbackUpstream, startUpstream } from "@/test-support/loopback-upstream";
import type { OperationId } from "./operations";
import { forward } from "./route-handlers";

let upstream: LoopbackUpstream;
let fixture: ProxyFixture;
let cookie: string;

const CONVERSATION = "0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11";

beforeAll(async () => {
  upstream = await startUpstream();
  fixture = await proxyFixture(upstream.url);
  ({ cookie } = await fixture.signedIn());
});

afterAll(async () => {
  await fixture.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
});

interface Call {
  readonly operation: OperationId;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly params?: Record<string, string>;
}

function call({ operation, path = "/api/v1/chat", method = "POST", headers = {}, body, params = {} }: Call): Promise<Response> {
  const request = new Request(`http://web.test${path}`, { method, headers: { cookie, ...headers }, body });
  return forward(request, operation, params, fixture.context);
}

function chat(headers: Record<string, string>, body: string | undefined = '{"message":"hi"}'): Promise<Response> {
  return call({
    operation: "chat",
    headers: { "content-type": "application/json", accept: "text/event-stream", "x-conversation-id": CONVERSATION, ...headers },
    body,
  });
}

async function expectValidation(response: Response, errors: object[]): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as { type: string; status: number; errors: object[] };
  expect(problem).toMatchObject({ type: "urn:spotter:problem:validation", title: "Invalid request", status: 400 });
  expect(problem.errors).toEqual(expect.arrayContaining(errors.map((e) => expect.objectContaining(e))));
  expect(upstream.requests).toHaveLength(0);
}

describe("validation against the spec's own schemas", () => {
  it("requires the conversation id header and checks its format", async () => {
    await expectValidation(await chat({ "x-conversation-id": "" }), [{ location: "header", name: "X-Conversation-Id" }]);
    await expectValidation(await chat({ "x-conversation-id": "not-a-uuid" }), [
      { location: "header", name: "X-Conversation-Id", message: 'must match format "uuid"' },
    ]);
  });

  it("checks integer headers, keys and time zones, naming every problem at once", async () => {
    await expectValidation(
      await chat({ "x-conversation-turn": "-1", "idempotency-key": "has space", "x-timezone": "../etc", "last-event-id": "x" }),
      [
        { location: "header", name: "X-Conversation-Turn" },
        { location: "header", name: "Idempotency-Key" },
        { location: "header", name: "X-Timezone" },
        { location: "header", name: "Last-Event-ID" },
      ],
    );
  });

  it("checks the body: required, bounded, no extra fields", async () => {
    await expectValidation(await chat({}, "{}"), [{ location: "body", name: "$.message", message: "is required" }]);
    await expectValidation(await chat({}, '{"message":"   "}'), [{ location: "body", name: "$.message" }]);
    await expectValidation(await chat({}, JSON.stringify({ message: "x".repeat(4001) })), [{ location: "body", name: "$.message" }]);
    await expectValidation(await chat({}, '{"message":"hi","user_id":"credentials:1"}'), [
      { location: "body", name: "$.user_id", message: "is not allowed" },
    ]);
    await expectValidation(await chat({}, '{"message":'), [{ location: "body" }]);
  });

  it("checks nested workout sets", async () => {
    const body = JSON.stringify({ date: "2026-13-40", title: "Legs", sets: [{ exercise: "Squat", reps: 0, rpe: 7.3 }] });
    const response = await call({
      operation: "createWorkout",
      path: "/api/v1/workouts",
      headers: { "content-type": "application/json" },
      body,
    });
    await expectValidation(response, [
      { location: "body", name: "$.date" },
      { location: "body", name: "$.sets[0].reps" },
      { location: "body", name: "$.sets[0].rpe" },
    ]);
  });

  it("checks path and query parameters", async () => {
    await expectValidation(
      await call({ operation: "deleteWorkout", method: "DELETE", path: "/api/v1/workouts/42", params: { workout_id: "42" } }),
      [{ location: "path", name: "workout_id" }],
    );
    await expectValidation(
      await call({ operation: "listWorkouts", method: "GET", path: "/api/v1/workouts?limit=0&date_from=yesterday" }),
      [
        { location: "query", name: "limit" },
        { location: "query", name: "date_from" },
      ],
    );
  });

  it("answers 415 for a body that is not JSON", async () => {
    const response = await chat({ "content-type": "text/plain" }, "hi");
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:unsupported-media-type" });
    expect(upstream.requests).toHaveLength(0);
  });

  it("answers 413 above 64 KiB, whether or not the length is declared", async () => {
    const big = JSON.stringify({ message: "x".repeat(70 * 1024) });
    const declared = await chat({ "content-length": String(big.length) }, big);
    expect(declared.status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const request = new Request("http://web.test/api/v1/chat", {
      method: "POST",
      headers: { cookie, "content-type": "application/json", "x-conversation-id": CONVERSATION },
      body: stream,
      duplex: "half",
    } as RequestInit);
    const undeclared = await forward(request, "chat", {}, fixture.context);
    expect(undeclared.status).toBe(413);
    expect(await undeclared.json()).toMatchObject({ type: "urn:spotter:problem:payload-too-large" });
    expect(upstream.requests).toHaveLength(0);
  });

  it("forwards a valid request", async () => {
    upstream.handle((_, response) => {
      response.writeHead(204).end();
    });
    const response = await call({ operation: "cancelTurn", path: `/api/v1/conversations/${CONVERSATION}/cancel`, params: { conversation_id: CONVERSATION } });
    expect(response.status).toBe(204);
    expect(upstream.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`POST /v1/conversations/${CONVERSATION}/cancel`]);
  });
});
