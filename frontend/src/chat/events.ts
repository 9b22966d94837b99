/**
 * The chat stream's events, typed from the spec's generated schemas: each event name comes
 * from `<Name>Event.event` and its payload from `<Name>Payload`, so a change in the spec
 * breaks the build here instead of at run time.
 */

import type { components } from "@/generated/openapi";

type Schemas = components["schemas"];

interface Typed<Event extends { event: string }, Payload> {
  /** The event's position in the turn (its SSE `id`). */
  readonly id: number;
  readonly event: Event["event"];
  readonly data: Payload;
}

export type CheckpointPayload = Schemas["CheckpointPayload"];
export type DocumentsFoundPayload = Schemas["DocumentsFoundPayload"];
export type RetrievedDocument = Schemas["RetrievedDocument"];
export type DonePayload = Schemas["DonePayload"];
export type ErrorPayload = Schemas["ErrorPayload"];
export type Problem = Schemas["Problem"];

export type ChatEvent =
  | Typed<Schemas["CheckpointEvent"], CheckpointPayload>
  | Typed<Schemas["RetrievalStartEvent"], Schemas["RetrievalStartPayload"]>
  | Typed<Schemas["DocumentsFoundEvent"], DocumentsFoundPayload>
  | Typed<Schemas["ResponseEvent"], Schemas["ResponsePayload"]>
  | Typed<Schemas["DoneEvent"], DonePayload>
  | Typed<Schemas["ErrorEvent"], ErrorPayload>;

export type ChatEventName = ChatEvent["event"];

const EVENT_NAMES: ReadonlySet<string> = new Set<ChatEventName>([
  "checkpoint",
  "retrieval_start",
  "documents_found",
  "response",
  "done",
  "error",
]);

export function isChatEventName(name: string): name is ChatEventName {
  return EVENT_NAMES.has(name);
}

export function isTerminal(event: ChatEvent): boolean {
  return event.event === "done" || event.event === "error";
}
