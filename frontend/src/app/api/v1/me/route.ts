import { forwardedTo } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const DELETE = forwardedTo("eraseMyData");
