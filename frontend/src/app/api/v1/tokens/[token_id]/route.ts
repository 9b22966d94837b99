import { revokeApiToken } from "@/server/account-api/api-tokens";
import { answeredBy } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const DELETE = answeredBy("revokeApiToken", revokeApiToken);
