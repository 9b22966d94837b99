import { jwtVerify } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SERVICE_SECRET, type ProxyFixture, proxyFixture } from "@/test-support/proxy-fixture";
import { type LoopbackUpstream, closedPort, startUpstream } from "@/test-support/loopback-upstream";
import { forward } from "./route-handlers";

let upstream: LoopbackUpstream;
let fixture: ProxyFixture;
let user: { subject: string; cookie: string };

const CONVERSATION = "0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11";
const SSE_HEADERS = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform" };

beforeAll(async () => {
  upstream = await startUpstream();
  fixture = await proxyFixture(upstream.url, { SPOTTER_WEB_UPSTREAM_TIMEOUT_SECONDS: "0.5" });
  user = await fixture.signedIn();
});

afterAll(async () => {
  await fixture.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
});

function chatRequest(headers: Record<string, string> = {}, signal?: AbortSignal): Request {
  return new Request("http://web.test/api/v1/chat", {
    method: "POST",
    headers: {
      cookie: user.cookie,
      "content-type": "application/json",
      accept: "text/event-stream",
      "x-conversation-id": CONVERSATION,
      ...headers,
    },
    body: '{"message":"How many sets?"}',
    signal,
  });
}

function event(id: number, name: string, data: object): string {
  return `id: ${id}\nevent: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}

describe("what reaches the service", () => {
  it("forwards only the listed headers, the body, and a minted service token", async () => {
    upstream.handle((_, response) => {
      response.writeHead(200, SSE_HEADERS).end(event(1, "done", { turn: 1, finish_reason: "stop", model: "offline" }));
    });
    const response = await forward(
      chatRequest({
        "x-conversation-turn": "3",
        "idempotency-key": "k-1",
        "last-event-id": "2",
        "x-timezone": "Europe/Berlin",
        "x-request-id": "req-1",
        "x-user-id": "credentials:someone-else",
        "x-forwarded-for": "203.0.113.9",
        "x-custom": "nope",
        "user-agent": "test-agent",
      }),
      "chat",
      {},
      fixture.context,
    );
    expect(response.status).toBe(200);
    await response.text();
    const [seen] = upstream.requests;
    expect(seen?.method).toBe("POST");
    expect(seen?.url).toBe("/v1/chat");
    expect(seen?.body).toBe('{"message":"How many sets?"}');
    expect(seen?.headers).toMatchObject({
      "x-conversation-id": CONVERSATION,
      "x-conversation-turn": "3",
      "idempotency-key": "k-1",
      "last-event-id": "2",
      "x-timezone": "Europe/Berlin",
      "x-request-id": "req-1",
      accept: "text/event-stream",
      "content-type": "application/json",
    });
    for (const name of ["cookie", "x-user-id", "x-forwarded-for", "x-custom"]) expect(seen?.headers).not.toHaveProperty(name);
    expect(seen?.headers["user-agent"]).not.toBe("test-agent");

    const token = /^Bearer (.+)$/.exec(seen?.headers.authorization ?? "")?.[1] ?? "";
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SERVICE_SECRET), {
      audience: "spotter",
      issuer: "spotter-web",
      algorithms: ["HS256"],
    });
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload.sub).toBe(user.subject);
    expect(payload.sub).toMatch(/^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._@+-]{1,128}$/);
    const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
    expect(lifetime).toBeGreaterThanOrEqual(60);
    expect(lifetime).toBeLessThanOrEqual(300);
    expect(Math.abs((payload.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("never forwards the caller's own Authorization header", async () => {
    const { token } = await fixture.apiToken(user.subject);
    const response = await forward(chatRequest({ cookie: "", authorization: `Bearer ${token}` }), "chat", {}, fixture.context);
    await response.text();
    const authorization = upstream.requests[0]?.headers.authorization ?? "";
    expect(authorization).not.toContain(token);
    expect(authorization).toMatch(/^Bearer ey/);
  });

  it("passes the query string and rewrites Location to the proxy's path", async () => {
    upstream.handle((_, response) => {
      response
        .writeHead(201, { "Content-Type": "application/json", Location: `/v1/workouts/${CONVERSATION}` })
        .end("{}");
    });
    const created = await forward(
      new Request("http://web.test/api/v1/workouts", {
        method: "POST",
        headers: { cookie: user.cookie, "content-type": "application/json" },
        body: '{"date":"2026-11-18","title":"Legs"}',
      }),
      "createWorkout",
      {},
      fixture.context,
    );
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/api/v1/workouts/${CONVERSATION}`);
    upstream.handle((_, response) => {
      response.writeHead(200, { "Content-Type": "application/json" }).end('{"items":[],"next_cursor":null}');
    });
    await forward(
      new Request("http://web.test/api/v1/workouts?limit=5&date_from=2026-01-01", { headers: { cookie: user.cookie } }),
      "listWorkouts",
      {},
      fixture.context,
    );
    expect(upstream.requests.at(-1)?.url).toBe("/v1/workouts?limit=5&date_from=2026-01-01");
  });
});

describe("what comes back", () => {
  it("streams each event as it arrives, uncompressed, while the service is still sending", async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    upstream.handle(async (_, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.write(event(1, "retrieval_start", { query: "q" }));
      await finished;
      response.end(event(2, "done", { turn: 1, finish_reason: "stop", model: "offline" }));
    });
    const response = await forward(chatRequest({ "accept-encoding": "gzip, br" }), "chat", {}, fixture.context);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("content-encoding")).toBeNull();
    expect(upstream.requests[0]?.headers["accept-encoding"]).toBe("identity");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe(event(1, "retrieval_start", { query: "q" }));
    finish();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe(event(2, "done", { turn: 1, finish_reason: "stop", model: "offline" }));
  });

  it("drops the service's request when the client goes away", async () => {
    upstream.handle((_, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.write(event(1, "retrieval_start", { query: "q" }));
    });
    const client = new AbortController();
    const response = await forward(chatRequest({}, client.signal), "chat", {}, fixture.context);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    client.abort();
    await expect(Promise.race([upstream.requests[0]?.closed.then(() => "closed"), sleep(3000).then(() => "still open")])).resolves.toBe("closed");
  });

  it("errors the client's stream, instead of hanging, when the service drops mid-stream", async () => {
    upstream.handle((_, response, socket) => {
      response.writeHead(200, SSE_HEADERS);
      response.write(event(1, "retrieval_start", { query: "q" }), () => socket.destroy());
    });
    const response = await forward(chatRequest(), "chat", {}, fixture.context);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(event(1, "retrieval_start", { query: "q" }));
    await expect(Promise.race([reader.read().then(() => "ended", () => "errored"), sleep(3000).then(() => "hung")])).resolves.toBe("errored");
  });

  it("passes the service's errors through unchanged", async () => {
    const problem = { type: "urn:spotter:problem:rate-limited", title: "Too many requests", status: 429, detail: "at most 30 turns per minute" };
    upstream.handle((_, response) => {
      response
        .writeHead(429, { "Content-Type": "application/problem+json", "Retry-After": "7", "X-Request-Id": "r-9" })
        .end(JSON.stringify(problem));
    });
    const response = await forward(chatRequest(), "chat", {}, fixture.context);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(response.headers.get("x-request-id")).toBe("r-9");
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toEqual(problem);
  });

  it("answers 502 when the service's answer does not match the operation", async () => {
    upstream.handle((_, response) => {
      response.writeHead(200, { "Content-Type": "text/html" }).end("<html>proxy error page</html>");
    });
    const response = await forward(chatRequest(), "chat", {}, fixture.context);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:bad-gateway", status: 502 });
  });

  it("answers 502 when the service speaks garbage instead of HTTP", async () => {
    upstream.handle((_, __, socket) => {
      socket.end("garbage that is not HTTP\r\n\r\n");
    });
    const response = await forward(chatRequest(), "chat", {}, fixture.context);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:bad-gateway" });
  });

  it("answers 503 with Retry-After when the service is down", async () => {
    const down = await proxyFixture(`http://127.0.0.1:${await closedPort()}`);
    const { cookie } = await down.signedIn();
    const response = await forward(chatRequest({ cookie }), "chat", {}, down.context);
    await down.close();
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^[0-9]+$/);
    expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:service-unreachable", status: 503 });
  });

  it("answers 503 instead of hanging when the service accepts but never answers", async () => {
    upstream.handle(() => undefined);
    const started = Date.now();
    const response = await forward(chatRequest(), "chat", {}, fixture.context);
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:service-unreachable" });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

