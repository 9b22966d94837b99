import { describe, expect, it } from "vitest";
import type { ChatEvent } from "./events";
import { type TurnRequest, runTurn } from "./turn-client";

const encoder = new TextEncoder();

const REQUEST: TurnRequest = {
  conversationId: "0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11",
  turn: 2,
  message: "How many sets?",
  idempotencyKey: "key-1",
  timeZone: "Europe/Berlin",
};

function sse(id: number, event: string, data: object): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
}

/** A response whose body sends `text` and then either ends or fails like a dropped connection. */
function streamResponse(text: string, drop: boolean): Response {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(encoder.encode(text));
      } else if (drop) controller.error(new TypeError("network error"));
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

/** A stand-in for the network: answers each request in turn and records what was sent. */
function network(answers: (() => Response)[]) {
  const sent: Headers[] = [];
  const bodies: string[] = [];
  const send = async (_url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    sent.push(new Headers(init?.headers));
    bodies.push(String(init?.body));
    const answer = answers.shift();
    if (!answer) throw new TypeError("no more answers");
    return answer();
  };
  return { sent, bodies, fetch: send as typeof fetch };
}

describe("runTurn", () => {
  it("sends only the newest message with the conversation headers", async () => {
    const net = network([() => streamResponse(sse(1, "done", { turn: 3, finish_reason: "stop", model: "offline" }), false)]);
    const outcome = await runTurn(REQUEST, () => undefined, { fetch: net.fetch, backoffMs: 1 });
    expect(outcome).toEqual({ kind: "done", done: { type: "done", turn: 3, finish_reason: "stop", model: "offline" } });
    const headers = net.sent[0];
    expect(headers?.get("x-conversation-id")).toBe(REQUEST.conversationId);
    expect(headers?.get("x-conversation-turn")).toBe("2");
    expect(headers?.get("idempotency-key")).toBe("key-1");
    expect(headers?.get("x-timezone")).toBe("Europe/Berlin");
    expect(headers?.get("accept")).toBe("text/event-stream");
    expect(headers?.has("last-event-id")).toBe(false);
    expect(JSON.parse(net.bodies[0] ?? "")).toEqual({ message: "How many sets?" });
  });

  it("reconnects after a drop with the same key and the last event id, continuing the answer", async () => {
    const net = network([
      () => streamResponse(sse(1, "retrieval_start", { query: "q" }) + sse(2, "response", { delta: "Three " }), true),
      () => streamResponse(sse(3, "response", { delta: "sets." }), true),
      () => streamResponse(sse(4, "done", { turn: 3, finish_reason: "stop", model: "offline" }), false),
    ]);
    const events: ChatEvent[] = [];
    const outcome = await runTurn(REQUEST, (event) => events.push(event), { fetch: net.fetch, backoffMs: 1 });
    expect(outcome.kind).toBe("done");
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(net.sent.map((h) => h.get("last-event-id"))).toEqual([null, "2", "3"]);
    expect(new Set(net.sent.map((h) => h.get("idempotency-key")))).toEqual(new Set(["key-1"]));
  });

  it("gives up after the bounded number of reconnects", async () => {
    const drop = () => streamResponse(sse(1, "response", { delta: "x" }), true);
    const net = network([drop, drop, drop, drop]);
    const outcome = await runTurn(REQUEST, () => undefined, { fetch: net.fetch, backoffMs: 1, maxReconnects: 2 });
    expect(outcome).toEqual({ kind: "dropped" });
    expect(net.sent).toHaveLength(3);
  });

  it("returns a problem answer without retrying it", async () => {
    const problem = { type: "urn:spotter:problem:rate-limited", title: "Too many requests", status: 429, detail: "slow down" };
    const net = network([
      () => new Response(JSON.stringify(problem), { status: 429, headers: { "Content-Type": "application/problem+json" } }),
    ]);
    const outcome = await runTurn(REQUEST, () => undefined, { fetch: net.fetch, backoffMs: 1 });
    expect(outcome).toEqual({ kind: "problem", status: 429, problem });
    expect(net.sent).toHaveLength(1);
  });

  it("ends with the stream's error event", async () => {
    const net = network([
      () => streamResponse(sse(1, "error", { code: "llm_overloaded", message: "busy", retryable: true }), false),
    ]);
    const outcome = await runTurn(REQUEST, () => undefined, { fetch: net.fetch });
    expect(outcome).toEqual({ kind: "error", error: { type: "error", code: "llm_overloaded", message: "busy", retryable: true } });
  });

  it("stops without reconnecting when aborted", async () => {
    const abort = new AbortController();
    const net = network([
      () => {
        abort.abort();
        return streamResponse(sse(1, "response", { delta: "x" }), true);
      },
    ]);
    const outcome = await runTurn(REQUEST, () => undefined, { fetch: net.fetch, signal: abort.signal, backoffMs: 1 });
    expect(outcome).toEqual({ kind: "aborted" });
    expect(net.sent).toHaveLength(1);
  });
});
