/**
 * Sends one chat turn through the web app's proxy and reads its events. When the connection
 * drops mid-answer (the reader throws or ends with no terminal event) it reconnects with the
 * same Idempotency-Key and `Last-Event-ID`, with bounded retries and backoff, so the service
 * resumes the same turn and the user sees one continuous answer.
 */

import { StreamProtocolError, chatEvents } from "./event-stream";
import { type ChatEvent, type DonePayload, type ErrorPayload, type Problem, isTerminal } from "./events";

export interface TurnRequest {
  readonly conversationId: string;
  /** The `turn` of the last `done` received in this conversation (0 for none). */
  readonly turn: number;
  readonly message: string;
  readonly idempotencyKey: string;
  readonly timeZone: string | null;
}

export type TurnOutcome =
  | { readonly kind: "done"; readonly done: DonePayload }
  | { readonly kind: "error"; readonly error: ErrorPayload }
  | { readonly kind: "problem"; readonly status: number; readonly problem: Problem | null }
  | { readonly kind: "aborted" }
  | { readonly kind: "dropped" };

export interface TurnOptions {
  readonly endpoint?: string;
  readonly signal?: AbortSignal;
  readonly maxReconnects?: number;
  readonly backoffMs?: number;
  readonly fetch?: typeof fetch;
}

const RETRY_STATUSES = new Set([502, 503, 504]);

export async function runTurn(
  request: TurnRequest,
  onEvent: (event: ChatEvent) => void,
  options: TurnOptions = {},
): Promise<TurnOutcome> {
  const { endpoint = "/api/v1/chat", signal, maxReconnects = 5, backoffMs = 300 } = options;
  const send = options.fetch ?? fetch;
  let lastEventId: number | null = null;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      if (attempt > maxReconnects) return { kind: "dropped" };
      if (!(await pause(backoffMs * 2 ** (attempt - 1), signal))) return { kind: "aborted" };
    }
    try {
      const response: Response = await send(endpoint, {
        method: "POST",
        headers: requestHeaders(request, lastEventId),
        body: JSON.stringify({ message: request.message }),
        signal,
        cache: "no-store",
      });
      if (!response.ok || !response.body) {
        // A reconnect that finds the service briefly unavailable tries again.
        if (attempt > 0 && RETRY_STATUSES.has(response.status)) continue;
        return { kind: "problem", status: response.status, problem: await readProblem(response) };
      }
      for await (const event of chatEvents(response.body)) {
        lastEventId = event.id;
        onEvent(event);
        if (isTerminal(event)) {
          return event.event === "done" ? { kind: "done", done: event.data } : { kind: "error", error: event.data as ErrorPayload };
        }
      }
    } catch (error) {
      if (signal?.aborted) return { kind: "aborted" };
      if (error instanceof StreamProtocolError) {
        return { kind: "error", error: { type: "error", code: "invalid_stream", message: error.message, retryable: true } };
      }
    }
    if (signal?.aborted) return { kind: "aborted" };
  }
}

function requestHeaders(request: TurnRequest, lastEventId: number | null): Headers {
  const headers = new Headers({
    Accept: "text/event-stream",
    "Content-Type": "application/json",
    "X-Conversation-Id": request.conversationId,
    "X-Conversation-Turn": String(request.turn),
    "Idempotency-Key": request.idempotencyKey,
  });
  if (request.timeZone) headers.set("X-Timezone", request.timeZone);
  if (lastEventId !== null) headers.set("Last-Event-ID", String(lastEventId));
  return headers;
}

async function readProblem(response: Response): Promise<Problem | null> {
  try {
    const body = (await response.json()) as Problem;
    return typeof body?.type === "string" ? body : null;
  } catch {
    return null;
  }
}

/** Waits `ms`; false when aborted first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
