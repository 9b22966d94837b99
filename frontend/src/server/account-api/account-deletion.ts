/**
 * The web-only `DELETE /api/v1/account`: erase the user's data in the service first (as
 * `DELETE /v1/me`), and only when that succeeded delete their API tokens and the account,
 * then end the session by expiring its cookies.
 */

import { credentialsUserId } from "../identity/subject";
import { SESSION_COOKIES } from "../proxy/caller";
import { operation } from "../proxy/operations";
import type { LocalCall } from "../proxy/route-handlers";
import { callService } from "../proxy/upstream";

export async function deleteAccount({ admitted, context, request }: LocalCall): Promise<Response> {
  const erased = await callService(request, operation("eraseMyData"), {}, { ...admitted, body: null }, context);
  if (erased.status !== 204) return erased;
  const subject = admitted.caller.subject;
  await context.repository.deleteApiTokensOf(subject);
  const userId = credentialsUserId(subject);
  if (userId !== null) await context.repository.deleteUser(userId);
  const headers = new Headers({ "Cache-Control": "no-store" });
  for (const name of SESSION_COOKIES) {
    const secure = name.startsWith("__Secure-") ? "; Secure" : "";
    headers.append("Set-Cookie", `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure}`);
  }
  return new Response(null, { status: 204, headers });
}
