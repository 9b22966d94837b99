/**
 * Route handlers for the `/api/v1/...` paths: each names its spec operation, and the request
 * is admitted (caller, then validation) and then either forwarded to the service or, for the
 * web-only operations, answered here.
 */

import { accountRepository } from "../accounts/store";
import { webConfig } from "../config";
import { type Admitted, type ProxyContext, admit } from "./admission";
import { type OperationId, operation } from "./operations";
import { callService } from "./upstream";

export interface RouteContext {
  readonly params: Promise<Record<string, string | string[]>>;
}

export interface LocalCall {
  readonly admitted: Admitted;
  readonly params: Readonly<Record<string, string>>;
  readonly context: ProxyContext;
  readonly request: Request;
}

export type LocalHandler = (call: LocalCall) => Promise<Response>;

export async function proxyContext(): Promise<ProxyContext> {
  const config = webConfig();
  return { config, repository: await accountRepository(config) };
}

async function pathParams(route: RouteContext | undefined): Promise<Record<string, string>> {
  const params = (route ? await route.params : undefined) ?? {};
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, Array.isArray(value) ? value.join("/") : value]));
}

/** Admits the request, then forwards it to the service. */
export async function forward(
  request: Request,
  operationId: OperationId,
  params: Readonly<Record<string, string>>,
  context: ProxyContext,
): Promise<Response> {
  const op = operation(operationId);
  const admission = await admit(request, op, params, context);
  if (!admission.ok) return admission.response;
  return callService(request, op, params, admission.request, context);
}

/** Admits the request, then answers it in the web app (the web-only operations). */
export async function answerLocally(
  request: Request,
  operationId: OperationId,
  params: Readonly<Record<string, string>>,
  context: ProxyContext,
  handler: LocalHandler,
): Promise<Response> {
  const admission = await admit(request, operation(operationId), params, context);
  if (!admission.ok) return admission.response;
  return handler({ admitted: admission.request, params, context, request });
}

/** A route handler forwarding to the service. */
export function forwardedTo(operationId: OperationId) {
  return async (request: Request, route?: RouteContext): Promise<Response> =>
    forward(request, operationId, await pathParams(route), await proxyContext());
}

/** A route handler answering a web-only operation. */
export function answeredBy(operationId: OperationId, handler: LocalHandler) {
  return async (request: Request, route?: RouteContext): Promise<Response> =>
    answerLocally(request, operationId, await pathParams(route), await proxyContext(), handler);
}
