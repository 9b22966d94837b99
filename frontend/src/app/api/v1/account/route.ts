import { deleteAccount } from "@/server/account-api/account-deletion";
import { answeredBy } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const DELETE = answeredBy("deleteAccount", deleteAccount);
