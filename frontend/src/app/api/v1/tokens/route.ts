import { createApiToken, listApiTokens } from "@/server/account-api/api-tokens";
import { servedMethods } from "@/server/proxy/method-not-allowed";
import { answeredBy } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = servedMethods({
  GET: answeredBy("listApiTokens", listApiTokens),
  POST: answeredBy("createApiToken", createApiToken),
});
