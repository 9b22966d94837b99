/**
 * The methods an `/api/v1` route serves, and the service's answer to every other one: 405
 * `urn:spotter:problem:method-not-allowed` with an `Allow` header, and `OPTIONS` answering 204
 * with that same `Allow`. Left to itself Next.js answers a method the route does not export with
 * a bare 405 (no `Allow`, no problem), runs GET for HEAD and lists HEAD under `OPTIONS`; the
 * service does none of that. Methods outside Next's exportable set (QUERY, TRACE, CONNECT) never
 * reach a route handler: Next.js or Node answers them itself (see contract-tests/README.md).
 */

import { requestIdOf } from "./admission";
import { problemResponse } from "./problems";
import type { RouteContext } from "./route-handlers";

export type RouteHandler = (request: Request, route?: RouteContext) => Promise<Response> | Response;

/** Every method a Next.js route file may export (Next's own `HTTP_METHODS`). */
const ROUTE_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

type RouteMethod = (typeof ROUTE_METHODS)[number];
/** HEAD and OPTIONS are never spec operations here: the service refuses HEAD and answers OPTIONS itself. */
export type ServedMethod = Exclude<RouteMethod, "HEAD" | "OPTIONS">;
export type RouteMethods = Readonly<Record<RouteMethod, RouteHandler>>;

/** The `Allow` value for a route serving `served` (OPTIONS always answers), sorted as RFC 9110 shows it. */
export function allowedMethods(served: readonly ServedMethod[]): string {
  return [...served, "OPTIONS"].sort().join(", ");
}

export function methodNotAllowed(request: Request, allow: string): Response {
  return problemResponse(405, "urn:spotter:problem:method-not-allowed", "Method not allowed", {
    detail: `${request.method} is not served here; use ${allow}`,
    headers: { Allow: allow },
    requestId: requestIdOf(request),
  });
}

/**
 * A handler for every method a route file can export: `served` as given, 405 problems for the
 * rest. A route file spreads it: `export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = ...`.
 */
export function servedMethods(served: Readonly<Partial<Record<ServedMethod, RouteHandler>>>): RouteMethods {
  const allow = allowedMethods(Object.keys(served) as ServedMethod[]);
  const refuse: RouteHandler = (request) => methodNotAllowed(request, allow);
  const options: RouteHandler = () => new Response(null, { status: 204, headers: { Allow: allow } });
  const handlers = {} as Record<RouteMethod, RouteHandler>;
  for (const method of ROUTE_METHODS) {
    handlers[method] = method === "OPTIONS" ? options : method === "HEAD" ? refuse : (served[method] ?? refuse);
  }
  return handlers;
}
