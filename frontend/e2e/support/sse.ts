/** Reads a chat response through the app's own stream reader, noting when each event arrived. */

import { chatEvents } from "@/chat/event-stream";
import type { ChatEvent } from "@/chat/events";

export interface TimedEvent {
  readonly at: number;
  readonly event: ChatEvent;
}

export async function readTimed(response: Response, stopAfter = Infinity): Promise<TimedEvent[]> {
  const events: TimedEvent[] = [];
  if (!response.body) throw new Error("no body");
  for await (const event of chatEvents(response.body)) {
    events.push({ at: performance.now(), event });
    if (events.length >= stopAfter) break;
  }
  return events;
}

export function answerText(events: readonly TimedEvent[]): string {
  return events.map(({ event }) => (event.event === "response" ? event.data.delta : "")).join("");
}
