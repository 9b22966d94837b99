import { createApiToken, listApiTokens } from "@/server/account-api/api-tokens";
import { answeredBy } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = answeredBy("listApiTokens", listApiTokens);
export const POST = answeredBy("createApiToken", createApiToken);
