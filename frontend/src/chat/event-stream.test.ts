import { describe, expect, it } from "vitest";
import { StreamProtocolError, chatEvents } from "./event-stream";
import type { ChatEvent } from "./events";

const encoder = new TextEncoder();

function streamOf(chunks: readonly Uint8Array[], failAfter = false): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk) controller.enqueue(chunk);
      else if (failAfter) controller.error(new TypeError("network error"));
      else controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for await (const event of chatEvents(body)) events.push(event);
  return events;
}

// A whole turn as the service sends it, with a heartbeat comment, a multi-byte character
// (split across chunks below) and a payload spread over several `data:` lines.
const TURN = [
  ": ping",
  "",
  "id: 1",
  "event: retrieval_start",
  'data: {"type":"retrieval_start","query":"squats?"}',
  "",
  "id: 2",
  "event: documents_found",
  'data: {"type":"documents_found","count":1,"degraded":false,',
  'data: "documents":[{"id":"ex-1","title":"Back squat","source":"workout","score":0.7}]}',
  "",
  ": ping",
  "id: 3",
  "event: response",
  'data: {"type":"response","delta":"3 × 5 💪 [1]."}',
  "",
  "id: 4",
  "event: done",
  'data: {"type":"done","turn":1,"finish_reason":"stop","model":"offline"}',
  "",
  "",
];

const EXPECTED = [
  { id: 1, event: "retrieval_start", data: { type: "retrieval_start", query: "squats?" } },
  {
    id: 2,
    event: "documents_found",
    data: {
      type: "documents_found",
      count: 1,
      degraded: false,
      documents: [{ id: "ex-1", title: "Back squat", source: "workout", score: 0.7 }],
    },
  },
  { id: 3, event: "response", data: { type: "response", delta: "3 × 5 💪 [1]." } },
  { id: 4, event: "done", data: { type: "done", turn: 1, finish_reason: "stop", model: "offline" } },
];

describe("chatEvents", () => {
  for (const [name, newline] of [
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["CR", "\r"],
  ] as const) {
    it(`parses a whole turn with ${name} line endings split at every byte boundary`, async () => {
      const bytes = encoder.encode(TURN.join(newline));
      for (let cut = 0; cut <= bytes.length; cut++) {
        const events = await collect(streamOf([bytes.slice(0, cut), bytes.slice(cut)]));
        expect(events, `cut at byte ${cut}`).toEqual(EXPECTED);
      }
    });
  }

  it("parses a turn delivered one byte at a time", async () => {
    const bytes = encoder.encode(TURN.join("\r\n"));
    const chunks = Array.from(bytes, (byte) => Uint8Array.of(byte));
    expect(await collect(streamOf(chunks))).toEqual(EXPECTED);
  });

  it("yields each event as soon as its bytes arrive, before the stream ends", async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const iterator = chatEvents(body);
    controller.enqueue(encoder.encode('id: 1\nevent: response\ndata: {"type":"response","delta":"Hi"}\n\n'));
    const first = await iterator.next();
    expect(first.value).toMatchObject({ id: 1, event: "response" });
    controller.close();
    expect((await iterator.next()).done).toBe(true);
  });

  it("skips events it does not know", async () => {
    const text = 'id: 1\nevent: future_thing\ndata: {"type":"future_thing"}\n\nid: 2\nevent: response\ndata: {"type":"response","delta":"x"}\n\n';
    expect((await collect(streamOf([encoder.encode(text)]))).map((e) => e.event)).toEqual(["response"]);
  });

  it("refuses a payload that is not JSON or names another type", async () => {
    const bad = 'id: 1\nevent: response\ndata: {"type":"response",\n\n';
    await expect(collect(streamOf([encoder.encode(bad)]))).rejects.toBeInstanceOf(StreamProtocolError);
    const mismatched = 'id: 1\nevent: response\ndata: {"type":"done"}\n\n';
    await expect(collect(streamOf([encoder.encode(mismatched)]))).rejects.toBeInstanceOf(StreamProtocolError);
  });

  it("refuses an event without a positive integer id", async () => {
    const text = 'event: response\ndata: {"type":"response","delta":"x"}\n\n';
    await expect(collect(streamOf([encoder.encode(text)]))).rejects.toBeInstanceOf(StreamProtocolError);
  });

  it("passes on a dropped connection after the events that arrived", async () => {
    const seen: ChatEvent[] = [];
    const first = encoder.encode('id: 1\nevent: response\ndata: {"type":"response","delta":"Hel"}\n\nid: 2\nevent: resp');
    await expect(
      (async () => {
        for await (const event of chatEvents(streamOf([first], true))) seen.push(event);
      })(),
    ).rejects.toThrow("network error");
    expect(seen.map((e) => e.id)).toEqual([1]);
  });
});
