/** The web-only `/api/v1/tokens` operations: list, create and revoke personal API tokens. */

import type { components } from "@/generated/openapi";
import { ApiTokens } from "../accounts/api-tokens";
import { problems } from "../proxy/problems";
import type { LocalCall } from "../proxy/route-handlers";

type ApiTokenRequest = components["schemas"]["ApiTokenRequest"];
type ApiTokenList = components["schemas"]["ApiTokenList"];

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" };

export async function listApiTokens({ admitted, context }: LocalCall): Promise<Response> {
  const body: ApiTokenList = { items: await new ApiTokens(context.repository).list(admitted.caller.subject) };
  return Response.json(body, { headers: JSON_HEADERS });
}

export async function createApiToken({ admitted, context }: LocalCall): Promise<Response> {
  // Validated against ApiTokenRequest by admission.
  const { name } = admitted.value as ApiTokenRequest;
  const created = await new ApiTokens(context.repository).create(admitted.caller.subject, name.trim());
  return Response.json(created, { status: 201, headers: JSON_HEADERS });
}

export async function revokeApiToken({ admitted, params, context }: LocalCall): Promise<Response> {
  const id = params.token_id ?? "";
  if (!(await new ApiTokens(context.repository).revoke(admitted.caller.subject, id))) {
    return problems.notFound("no such token", admitted.requestId);
  }
  return new Response(null, { status: 204 });
}
