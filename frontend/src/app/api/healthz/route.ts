/** Liveness of the web app itself (container HEALTHCHECK, Cloud Run probes): no auth, no upstream call. */
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json({ status: "ok" }, { headers: { "Cache-Control": "no-store" } });
}
