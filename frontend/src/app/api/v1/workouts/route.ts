import { forwardedTo } from "@/server/proxy/route-handlers";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = forwardedTo("listWorkouts");
export const POST = forwardedTo("createWorkout");
export const DELETE = forwardedTo("deleteAllWorkouts");
