import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { encode } from "next-auth/jwt";
import { AUTH_SECRET, type ProxyFixture, proxyFixture } from "@/test-support/proxy-fixture";
import { type LoopbackUpstream, startUpstream } from "@/test-support/loopback-upstream";
import { listApiTokens } from "../account-api/api-tokens";
import { answerLocally, forward } from "./route-handlers";

let upstream: LoopbackUpstream;
let fixture: ProxyFixture;

beforeAll(async () => {
  upstream = await startUpstream();
  fixture = await proxyFixture(upstream.url);
});

afterAll(async () => {
  await fixture.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  upstream.handle((_, response) => {
    response.writeHead(200, { "Content-Type": "application/json" }).end('{"items":[],"next_cursor":null}');
  });
});

function listWorkouts(headers: Record<string, string>): Promise<Response> {
  return forward(new Request("http://web.test/api/v1/workouts", { headers }), "listWorkouts", {}, fixture.context);
}

async function expectUnauthorized(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(await response.json()).toMatchObject({ type: "urn:spotter:problem:unauthorized", status: 401 });
  expect(upstream.requests).toHaveLength(0);
}

describe("who may call the proxy", () => {
  it("refuses a request with neither a session nor a token, forwarding nothing", async () => {
    await expectUnauthorized(await listWorkouts({}));
  });

  it("refuses a forged or foreign session cookie and a bare user id header", async () => {
    await expectUnauthorized(await listWorkouts({ cookie: "authjs.session-token=not-a-jwe", "x-user-id": "credentials:1" }));
    const other = await proxyFixture(upstream.url, { AUTH_SECRET: "another-auth-secret-0123456789abcdefghij" });
    const { cookie } = await other.signedIn();
    await other.close();
    await expectUnauthorized(await listWorkouts({ cookie }));
  });

  it("forwards a signed-in user's request", async () => {
    const { cookie } = await fixture.signedIn();
    const response = await listWorkouts({ cookie, accept: "application/json" });
    expect(response.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
  });

  it("refuses a remembered session once its account is deleted", async () => {
    const { cookie, userId } = await fixture.signedIn();
    expect((await listWorkouts({ cookie })).status).toBe(200);
    upstream.requests.length = 0;
    await fixture.context.repository.deleteUser(userId);
    await expectUnauthorized(await listWorkouts({ cookie }));
  });

  it("refuses a session that expired after it was accepted", async () => {
    const { subject } = await fixture.signedIn();
    const name = "authjs.session-token";
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const token = await encode({ token: { subject }, secret: AUTH_SECRET, salt: name, maxAge: 60 });
      expect((await listWorkouts({ cookie: `${name}=${token}` })).status).toBe(200);
      upstream.requests.length = 0;
      // Past its expiry and Auth.js's 15 s clock tolerance: a fresh decode refuses it, so must we.
      vi.setSystemTime(Date.now() + 76_000);
      await expectUnauthorized(await listWorkouts({ cookie: `${name}=${token}` }));
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses the session of a deleted account", async () => {
    const { cookie, userId } = await fixture.signedIn();
    await fixture.context.repository.deleteUser(userId);
    await expectUnauthorized(await listWorkouts({ cookie }));
  });

  it("accepts a personal API token, records its use, and refuses it once revoked", async () => {
    const { subject } = await fixture.signedIn();
    const { id, token } = await fixture.apiToken(subject);
    expect(await listWorkouts({ authorization: `Bearer ${token}` }).then((r) => r.status)).toBe(200);
    const [stored] = await fixture.context.repository.listApiTokens(subject);
    expect(stored?.lastUsedAt).not.toBeNull();
    upstream.requests.length = 0;
    expect(await fixture.context.repository.revokeApiToken(subject, id)).toBe(true);
    await expectUnauthorized(await listWorkouts({ authorization: `Bearer ${token}` }));
  });

  it("refuses unknown tokens and other bearer credentials", async () => {
    await expectUnauthorized(await listWorkouts({ authorization: `Bearer spt_${"A".repeat(43)}` }));
    await expectUnauthorized(await listWorkouts({ authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x" }));
  });

  it("lets an Authorization header win over a session cookie, so a bad token is never ignored", async () => {
    const { cookie } = await fixture.signedIn();
    await expectUnauthorized(await listWorkouts({ cookie, authorization: "Bearer spt_wrong" }));
  });

  it("keeps the token operations to sessions, as the spec's security says", async () => {
    const { subject, cookie } = await fixture.signedIn();
    const { token } = await fixture.apiToken(subject);
    const list = (headers: Record<string, string>) =>
      answerLocally(new Request("http://web.test/api/v1/tokens", { headers }), "listApiTokens", {}, fixture.context, listApiTokens);
    await expectUnauthorized(await list({ authorization: `Bearer ${token}` }));
    const listed = await list({ cookie });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { items: { name: string; last_used_at: string | null }[] };
    expect(body.items.map((t) => t.name)).toEqual(["script"]);
    expect(JSON.stringify(body)).not.toContain("spt_");
  });
});
