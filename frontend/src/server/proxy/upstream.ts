/**
 * Calls the service for an admitted request and hands its answer back unbuffered: the
 * response body is the upstream stream itself, so each SSE event reaches the client as it
 * arrives. The caller's abort signal is forwarded (a dropped client drops the upstream
 * request), and the wait for response headers is bounded so the proxy never hangs.
 */

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
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

class HeadersTimeout extends Error {}

export async function callService(
  request: Request,
  operation: Operation,
  pathParams: Readonly<Record<string, string>>,
  admitted: Admitted,
  context: ProxyContext,
): Promise<Response> {
  const url = serviceUrl(context.config.apiUrl, operation.path, pathParams, new URL(request.url).search);
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set("authorization", `Bearer ${await mintServiceToken(context.config.serviceSecret, admitted.caller.subject)}`);
  headers.set("accept-encoding", "identity");

  const abort = new AbortController();
  const onClientGone = () => abort.abort(request.signal.reason);
  if (request.signal.aborted) onClientGone();
  request.signal.addEventListener("abort", onClientGone, { once: true });
  const timer = setTimeout(() => abort.abort(new HeadersTimeout()), context.config.upstreamTimeoutMs);

  let upstream: Response;
  try {
    upstream = await fetch(url, {
      method: operation.method,
      headers,
      body: admitted.body ?? undefined,
      signal: abort.signal,
      redirect: "manual",
      cache: "no-store",
    });
  } catch (error) {
    request.signal.removeEventListener("abort", onClientGone);
    return failure(error, abort.signal, admitted.requestId, context.config.upstreamTimeoutMs);
  } finally {
    clearTimeout(timer);
  }

  const invalid = invalidResponse(operation, upstream);
  if (invalid) {
    request.signal.removeEventListener("abort", onClientGone);
    await upstream.body?.cancel().catch(() => undefined);
    return problems.badGateway(`the service sent ${invalid}`, admitted.requestId);
  }
  return new Response(upstream.status === 204 ? null : upstream.body, {
    status: upstream.status,
    headers: responseHeaders(upstream),
  });
}

export function serviceUrl(apiUrl: string, template: string, pathParams: Readonly<Record<string, string>>, search: string): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathParams[name] ?? ""));
  return `${apiUrl}${path}${search}`;
}

function failure(error: unknown, signal: AbortSignal, requestId: string | null, timeoutMs: number): Response {
  if (signal.aborted && signal.reason instanceof HeadersTimeout) {
    return problems.serviceUnreachable(`the Spotter service did not answer within ${timeoutMs / 1000} s`, requestId);
  }
  if (signal.aborted) {
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
function invalidResponse(operation: Operation, upstream: Response): string | null {
  const status = upstream.status;
  const media = mediaType(upstream.headers.get("content-type"));
  const documented = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
  if (!documented) {
    return status >= 400 && media === "application/problem+json" ? null : `an undocumented status ${status}`;
  }
  if (!documented.content) return null;
  return media in documented.content ? null : `${media || "no content type"} with status ${status}`;
}

function responseHeaders(upstream: Response): Headers {
  const headers = new Headers();
  for (const name of RETURNED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const location = upstream.headers.get("location");
  if (location !== null) headers.set("location", location.startsWith("/v1/") ? `/api${location}` : location);
  if (mediaType(upstream.headers.get("content-type")) === "text/event-stream") {
    // Without no-transform Next.js compresses, and so buffers, the stream.
    headers.set("cache-control", "no-cache, no-transform");
    headers.set("x-accel-buffering", "no");
  } else if (!headers.has("cache-control")) {
    headers.set("cache-control", "no-store, no-transform");
  }
  return headers;
}
