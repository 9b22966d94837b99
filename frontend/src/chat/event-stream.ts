/**
 * Turns a chat response body into typed events as bytes arrive: UTF-8 decoding that survives
 * characters split across chunks, SSE framing by eventsource-parser (CRLF, multi-line `data`,
 * comment heartbeats), then each event's JSON payload checked against its name.
 */

import { createParser, type EventSourceMessage } from "eventsource-parser";
import { type ChatEvent, isChatEventName } from "./events";

/** The stream broke the protocol (as opposed to the network failing). */
export class StreamProtocolError extends Error {
  override name = "StreamProtocolError";
}

/** Yields each event as soon as its bytes are in; throws what the reader throws (a dropped connection). */
export async function* chatEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatEvent> {
  const pending: ChatEvent[] = [];
  let protocolError: StreamProtocolError | null = null;
  const parser = createParser({
    onEvent(message) {
      try {
        const event = toChatEvent(message);
        if (event) pending.push(event);
      } catch (error) {
        protocolError ??= error as StreamProtocolError;
      }
    },
  });
  const decoder = new TextDecoder("utf-8");
  const reader = body.getReader();
  let finished = false;
  let endsWithCR = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      finished = done;
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      parser.feed(text);
      if (text) endsWithCR = text.endsWith("\r");
      // A final CR could still have been the start of CRLF; at the end it can only be a line end.
      if (done && endsWithCR) parser.feed("\n");
      if (protocolError) throw protocolError;
      while (pending.length) yield pending.shift() as ChatEvent;
      if (done) return;
    }
  } finally {
    // Stopped early (a terminal event, an abort, a protocol error): let the connection go.
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

function toChatEvent(message: EventSourceMessage): ChatEvent | null {
  const name = message.event ?? "message";
  // Events this client does not know are skipped, so the service may add new ones.
  if (!isChatEventName(name)) return null;
  const id = Number(message.id);
  if (!Number.isInteger(id) || id < 1) throw new StreamProtocolError(`event ${name} has no valid id`);
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw new StreamProtocolError(`event ${name} carries invalid JSON`);
  }
  if (typeof data !== "object" || data === null || (data as { type?: unknown }).type !== name) {
    throw new StreamProtocolError(`event ${name} carries a payload of another type`);
  }
  return { id, event: name, data } as ChatEvent;
}
