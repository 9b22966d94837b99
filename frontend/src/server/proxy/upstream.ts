/**
 * Calls the service for an admitted request and hands its answer back unbuffered: the
 * response body streams the service's bytes as they arrive, so each SSE event reaches the
 * client at once. The caller's abort signal is forwarded (a dropped client drops the upstream
 * request), and the wait for response headers is bounded so the proxy never hangs.
 *
 * It speaks `node:http(s)` over a keep-alive agent rather than `fetch()`: undici's WHATWG
 * machinery (and Next.js's patched `fetch` around it) cost about 1 ms more per request to the
 * first byte and twice the CPU per event on this path.
 */

import { Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Admitted, ProxyContext } from "./admission";
import type { Operation } from "./operations";
import { problems } from "./problems";
import { mintServiceToken } from "./service-token";

/** The only request headers that reach the service; cookies and the caller's Authorization never do. */
export const FORWARDED_REQUEST_HEADERS = [
  "x-conversation-id",
  "x-conversation-turn",
  "idempotency-key",
  "last-event-id",
  "x-timezone",
  "x-request-id",
  "accept",
  "content-type",
] as const;

/** The response headers passed back to the client. */
const RETURNED_RESPONSE_HEADERS = [
  "content-type",
  "retry-after",
  "x-request-id",
  "x-conversation-id",
  "www-authenticate",
  "cache-control",
] as const;

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ETIMEDOUT",
]);

/**
 * Connections to the service are reused (no handshake per turn); an idle one is dropped after
 * 4 s, before a typical server keep-alive timeout (uvicorn's is 5 s) could close it under a request.
 */
const AGENT_OPTIONS = { keepAlive: true, timeout: 4_000, scheduling: "lifo" } as const;
const AGENTS = { "http:": new HttpAgent(AGENT_OPTIONS), "https:": new HttpsAgent(AGENT_OPTIONS) };

/** Statuses whose responses never have a body. */
const NO_BODY = new Set([204, 205, 304]);

/** How much of the service's stream may wait unread before the socket is paused. */
const STREAM_HIGH_WATER_MARK_BYTES = 64 * 1024;

class HeadersTimeout extends Error {}

interface Outcome {
  timedOut: boolean;
  clientGone: boolean;
}

export async function callService(
  request: Request,
  operation: Operation,
  pathParams: Readonly<Record<string, string>>,
  admitted: Admitted,
  context: ProxyContext,
): Promise<Response> {
  const url = new URL(serviceUrl(context.config.apiUrl, operation.path, pathParams, new URL(request.url).search));
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  headers.authorization = `Bearer ${mintServiceToken(context.config.serviceSecret, admitted.caller.subject)}`;
  headers["accept-encoding"] = "identity";
  if (admitted.body) headers["content-length"] = String(admitted.body.byteLength);

  const outcome: Outcome = { timedOut: false, clientGone: false };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const agent = url.protocol === "https:" ? AGENTS["https:"] : AGENTS["http:"];
  let outgoing!: ClientRequest;
  const onClientGone = () => {
    outcome.clientGone = true;
    outgoing.destroy(request.signal.reason instanceof Error ? request.signal.reason : new Error("the client went away"));
  };
  const answer = await new Promise<IncomingMessage | Error>((resolve) => {
    outgoing = send(url, { method: operation.method, headers, agent }, resolve);
    // Errors after the answer arrived reach its body stream; this listener only keeps them from being unhandled.
    outgoing.on("error", resolve);
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      outgoing.destroy(new HeadersTimeout());
    }, context.config.upstreamTimeoutMs);
    outgoing.once("response", () => clearTimeout(timer));
    outgoing.once("close", () => clearTimeout(timer));
    if (request.signal.aborted) onClientGone();
    else request.signal.addEventListener("abort", onClientGone, { once: true });
    outgoing.end(admitted.body ?? undefined);
  });
  if (answer instanceof Error) {
    request.signal.removeEventListener("abort", onClientGone);
    return failure(answer, outcome, admitted.requestId, context.config.upstreamTimeoutMs);
  }
  // The client's abort keeps dropping the service's request until its answer has been read.
  answer.once("close", () => request.signal.removeEventListener("abort", onClientGone));

  const status = answer.statusCode ?? 0;
  const invalid = invalidResponse(operation, status, headerValue(answer.headers, "content-type"));
  if (invalid) {
    answer.destroy();
    return problems.badGateway(`the service sent ${invalid}`, admitted.requestId);
  }
  if (NO_BODY.has(status)) {
    answer.resume();
    return new Response(null, { status, headers: responseHeaders(answer.headers) });
  }
  return new Response(bodyStream(answer), { status, headers: responseHeaders(answer.headers) });
}

/**
 * The answer's bytes as a web stream, each chunk passed on as it arrives (nothing is held back
 * to coalesce); a slow reader pauses the socket, and cancelling destroys it, so the service
 * sees the disconnect.
 */
function bodyStream(answer: IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        answer.on("data", (chunk: Buffer) => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) answer.pause();
        });
        answer.once("end", () => {
          if (!settled) controller.close();
          settled = true;
        });
        answer.once("error", (error) => {
          if (!settled) controller.error(error);
          settled = true;
        });
        answer.once("close", () => {
          if (!settled) controller.error(new Error("the service closed the stream before its end"));
          settled = true;
        });
      },
      pull() {
        answer.resume();
      },
      cancel() {
        settled = true;
        answer.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER_MARK_BYTES }),
  );
}

export function serviceUrl(apiUrl: string, template: string, pathParams: Readonly<Record<string, string>>, search: string): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathParams[name] ?? ""));
  return `${apiUrl}${path}${search}`;
}

function failure(error: unknown, outcome: Outcome, requestId: string | null, timeoutMs: number): Response {
  if (outcome.timedOut) {
    return problems.serviceUnreachable(`the Spotter service did not answer within ${timeoutMs / 1000} s`, requestId);
  }
  if (outcome.clientGone) {
    // The client is gone; nobody reads this answer.
    return problems.serviceUnreachable("the request was aborted", requestId);
  }
  const code = errorCode(error);
  if (code && UNREACHABLE_CODES.has(code)) {
    return problems.serviceUnreachable(`the Spotter service did not answer (${code})`, requestId);
  }
  return problems.badGateway(`the Spotter service sent an invalid response${code ? ` (${code})` : ""}`, requestId);
}

function errorCode(error: unknown): string | null {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return null;
}

function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Why the service's answer cannot be passed on, or null when it matches the operation's responses. */
function invalidResponse(operation: Operation, status: number, contentType: string | null): string | null {
  const media = mediaType(contentType);
  const documented = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
  if (!documented) {
    return status >= 400 && media === "application/problem+json" ? null : `an undocumented status ${status}`;
  }
  if (!documented.content) return null;
  return media in documented.content ? null : `${media || "no content type"} with status ${status}`;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

function responseHeaders(upstream: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const name of RETURNED_RESPONSE_HEADERS) {
    const value = headerValue(upstream, name);
    if (value !== null) headers.set(name, value);
  }
  const location = headerValue(upstream, "location");
  if (location !== null) headers.set("location", location.startsWith("/v1/") ? `/api${location}` : location);
  if (mediaType(headerValue(upstream, "content-type")) === "text/event-stream") {
    // Without no-transform Next.js compresses, and so buffers, the stream.
    headers.set("cache-control", "no-cache, no-transform");
    headers.set("x-accel-buffering", "no");
  } else if (!headers.has("cache-control")) {
    headers.set("cache-control", "no-store, no-transform");
  }
  return headers;
}
