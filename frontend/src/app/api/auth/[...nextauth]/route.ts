import { handlers } from "@/auth";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
export const { GET, POST } = handlers;
