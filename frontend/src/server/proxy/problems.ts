/** RFC 9457 problem responses with the spec's `type` URIs, the same shapes the service sends. */

import type { components } from "@/generated/openapi";

export type Problem = components["schemas"]["Problem"];
export type InvalidParam = components["schemas"]["InvalidParam"];
export type ProblemType = Problem["type"];

export const PROBLEM_MEDIA_TYPE = "application/problem+json";

interface ProblemOptions {
  readonly detail?: string;
  readonly errors?: readonly InvalidParam[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly requestId?: string | null;
}

export function problemResponse(status: number, type: ProblemType, title: string, options: ProblemOptions = {}): Response {
  const body: Problem & { errors?: readonly InvalidParam[] } = { type, title, status };
  if (options.detail) body.detail = options.detail;
  if (options.requestId) body.request_id = options.requestId;
  if (options.errors?.length) body.errors = options.errors;
  const headers = new Headers(options.headers);
  headers.set("Content-Type", PROBLEM_MEDIA_TYPE);
  headers.set("Cache-Control", "no-store");
  if (options.requestId) headers.set("X-Request-Id", options.requestId);
  return new Response(JSON.stringify(body), { status, headers });
}

export const problems = {
  unauthorized: (requestId: string | null) =>
    problemResponse(401, "urn:spotter:problem:unauthorized", "Unauthorized", {
      detail: "sign in, or send a personal API token as `Authorization: Bearer spt_...`",
      headers: { "WWW-Authenticate": 'Bearer realm="spotter"' },
      requestId,
    }),
  validation: (errors: readonly InvalidParam[], requestId: string | null) =>
    problemResponse(400, "urn:spotter:problem:validation", "Invalid request", {
      detail: `${errors.length} problem${errors.length === 1 ? "" : "s"} in the request`,
      errors,
      requestId,
    }),
  unsupportedMediaType: (requestId: string | null) =>
    problemResponse(415, "urn:spotter:problem:unsupported-media-type", "Unsupported media type", {
      detail: "send the body as application/json",
      requestId,
    }),
  payloadTooLarge: (limit: number, requestId: string | null) =>
    problemResponse(413, "urn:spotter:problem:payload-too-large", "Payload too large", {
      detail: `the body exceeds ${limit} bytes`,
      requestId,
    }),
  notFound: (detail: string, requestId: string | null) =>
    problemResponse(404, "urn:spotter:problem:not-found", "Not found", { detail, requestId }),
  serviceUnreachable: (detail: string, requestId: string | null) =>
    problemResponse(503, "urn:spotter:problem:service-unreachable", "Service unreachable", {
      detail,
      headers: { "Retry-After": "2" },
      requestId,
    }),
  badGateway: (detail: string, requestId: string | null) =>
    problemResponse(502, "urn:spotter:problem:bad-gateway", "Bad gateway", { detail, requestId }),
};
