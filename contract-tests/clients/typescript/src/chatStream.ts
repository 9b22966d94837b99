/**
 * Stream one Spotter chat turn with fetch + eventsource-parser, typed by the generated spec types.
 *
 * openapi-typescript generates a type for every event payload (`components["schemas"]["DonePayload"]`,
 * ...) but nothing that streams. This is the small helper a web or mobile team writes around them:
 * each SSE frame becomes a `ChatEvent`, a union discriminated by `event`, after checking that the
 * name is one the spec defines and that the payload's `type` equals it.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { components } from "../../../.generated/typescript/openapi";

type Schemas = components["schemas"];

/** SSE `event` name -> the generated type of its JSON `data`. */
export interface EventPayloads {
  checkpoint: Schemas["CheckpointPayload"];
  retrieval_start: Schemas["RetrievalStartPayload"];
  documents_found: Schemas["DocumentsFoundPayload"];
  response: Schemas["ResponsePayload"];
  done: Schemas["DonePayload"];
  error: Schemas["ErrorPayload"];
}

export type ChatEvent = {
  [Name in keyof EventPayloads]: { id: number; event: Name; data: EventPayloads[Name] };
}[keyof EventPayloads];

export type Problem = Schemas["Problem"];

const EVENT_NAMES: ReadonlySet<string> = new Set<keyof EventPayloads>([
  "checkpoint", "retrieval_start", "documents_found", "response", "done", "error",
]);

export class ChatProblem extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(`${status}: ${problem.title}`);
  }
}

export interface TurnRequest {
  baseUrl: string;
  token: string;
  conversationId: string;
  message: string;
  /** The `turn` of the last `done` received in this conversation, 0 for none. */
  turn: number;
  idempotencyKey?: string;
  lastEventId?: number;
  signal?: AbortSignal;
}

function toChatEvent(message: EventSourceMessage): ChatEvent {
  const name = message.event ?? "message";
  if (!EVENT_NAMES.has(name)) throw new Error(`unknown event ${name}`);
  const data = JSON.parse(message.data) as { type?: unknown };
  if (data.type !== name) throw new Error(`event ${name} carries payload type ${String(data.type)}`);
  return { id: Number(message.id), event: name, data } as ChatEvent;
}

/** POST /v1/chat and yield each event as it arrives. */
export async function* streamTurn(request: TurnRequest): AsyncGenerator<ChatEvent> {
  const headers: Record<string, string> = {
    Accept: "text/event-stream",
    Authorization: `Bearer ${request.token}`,
    "Content-Type": "application/json",
    "X-Conversation-Id": request.conversationId,
    "X-Conversation-Turn": String(request.turn),
  };
  if (request.idempotencyKey !== undefined) headers["Idempotency-Key"] = request.idempotencyKey;
  if (request.lastEventId !== undefined) headers["Last-Event-ID"] = String(request.lastEventId);
  const body: Schemas["ChatRequest"] = { message: request.message };
  const response = await fetch(`${request.baseUrl}/v1/chat`, {
    method: "POST", headers, body: JSON.stringify(body), signal: request.signal,
  });
  if (response.status !== 200 || response.body === null) {
    throw new ChatProblem(response.status, (await response.json()) as Problem);
  }
  const ready: ChatEvent[] = [];
  const parser = createParser({ onEvent: (message) => ready.push(toChatEvent(message)) });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
      while (ready.length > 0) yield ready.shift() as ChatEvent;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
