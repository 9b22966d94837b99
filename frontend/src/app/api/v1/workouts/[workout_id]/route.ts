import { forwardedTo } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = forwardedTo("getWorkout");
export const DELETE = forwardedTo("deleteWorkout");
