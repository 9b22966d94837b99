/**
 * The checks every `/api/v1` request passes before anything happens on its behalf: who is
 * calling (401 otherwise, nothing forwarded), then the spec's parameters and body (400, 413,
 * 415 in the service's own shapes).
 */

import type { AccountRepository } from "../accounts/repository";
import type { WebConfig } from "../config";
import { type Caller, identifyCaller } from "./caller";
import type { Operation } from "./operations";
import { problems } from "./problems";
import { MAX_BODY_BYTES, readJsonBody } from "./request-body";
import { bodyProblems, parameterProblems } from "./request-validation";

export interface ProxyContext {
  readonly config: WebConfig;
  readonly repository: AccountRepository;
}

export interface Admitted {
  readonly caller: Caller;
  /** The body exactly as received (validated), or null for operations without one. */
  readonly body: Uint8Array<ArrayBuffer> | null;
  readonly value: unknown;
  readonly requestId: string | null;
}

export type Admission = { readonly ok: true; readonly request: Admitted } | { readonly ok: false; readonly response: Response };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` when it fits the spec's pattern (echoed in problems), else null. */
export function requestIdOf(request: Request): string | null {
  const raw = request.headers.get("x-request-id");
  return raw && REQUEST_ID.test(raw) ? raw : null;
}

export async function admit(
  request: Request,
  operation: Operation,
  pathParams: Readonly<Record<string, string>>,
  context: ProxyContext,
): Promise<Admission> {
  const requestId = requestIdOf(request);
  const refuse = (response: Response): Admission => ({ ok: false, response });

  const caller = await identifyCaller(
    request,
    { authSecret: context.config.authSecret, repository: context.repository },
    operation.acceptsApiToken,
  );
  if (!caller) return refuse(problems.unauthorized(requestId));

  const errors = parameterProblems(operation, {
    headers: request.headers,
    pathParams,
    query: new URL(request.url).searchParams,
  });
  let body: Uint8Array<ArrayBuffer> | null = null;
  let value: unknown = undefined;
  if (operation.body) {
    const read = await readJsonBody(request, MAX_BODY_BYTES);
    switch (read.kind) {
      case "unsupported-media-type":
        return refuse(problems.unsupportedMediaType(requestId));
      case "too-large":
        return refuse(problems.payloadTooLarge(MAX_BODY_BYTES, requestId));
      case "invalid":
        errors.push({ location: "body", message: read.message });
        break;
      case "ok":
        body = read.bytes;
        value = read.value;
        errors.push(...bodyProblems(operation.body.schema, read.value));
    }
  }
  if (errors.length) return refuse(problems.validation(errors, requestId));
  return { ok: true, request: { caller, body, value, requestId } };
}
