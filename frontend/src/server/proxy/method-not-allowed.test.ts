import { describe, expect, it } from "vitest";
import { servedMethods } from "./method-not-allowed";

const served = () => new Response("served", { status: 200 });
const routes = servedMethods({ GET: served, DELETE: served });

function call(method: string, headers: Record<string, string> = {}): Promise<Response> {
  const handler = routes[method as keyof typeof routes];
  return Promise.resolve(handler(new Request("http://web.test/api/v1/workouts/x", { method, headers })));
}

describe("servedMethods", () => {
  it("passes the served methods to their handlers", async () => {
    expect(await (await call("GET")).text()).toBe("served");
    expect((await call("DELETE")).status).toBe(200);
  });

  it.each(["POST", "PUT", "PATCH", "HEAD"])("answers %s like the service: a 405 problem with Allow", async (method) => {
    const response = await call(method, { "x-request-id": "req-1" });
    expect(response.status).toBe(405);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("allow")).toBe("DELETE, GET, OPTIONS");
    expect(response.headers.get("x-request-id")).toBe("req-1");
    if (method !== "HEAD") {
      const problem = await response.json();
      expect(problem).toMatchObject({ type: "urn:spotter:problem:method-not-allowed", status: 405, request_id: "req-1" });
    }
  });

  it("answers OPTIONS with exactly the served methods (no HEAD: the service refuses it)", async () => {
    const response = await call("OPTIONS");
    expect(response.status).toBe(204);
    expect(response.headers.get("allow")).toBe("DELETE, GET, OPTIONS");
  });

  it("drops a request id that does not fit the spec's pattern", async () => {
    const response = await call("PUT", { "x-request-id": "not valid!" });
    expect(response.headers.get("x-request-id")).toBeNull();
    expect((await response.json()).request_id).toBeUndefined();
  });
});
