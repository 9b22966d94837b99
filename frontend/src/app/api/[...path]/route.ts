import { problems } from "@/server/proxy/problems";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Paths under /api that no operation serves answer with a problem, like the service does. */
function notFound(): Response {
  return problems.notFound("no such path", null);
}

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
