import { servedMethods } from "@/server/proxy/method-not-allowed";
import { forwardedTo } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = servedMethods({
  DELETE: forwardedTo("eraseMyData"),
});
