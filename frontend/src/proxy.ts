/**
 * Sends visitors who are not signed in to /sign-in (and signed-in ones away from it). Only the
 * edge-safe Auth.js config is loaded here; `/api` routes check credentials themselves and
 * answer 401 problems instead of redirects.
 */

import NextAuth from "next-auth";
import { authConfig } from "@/auth/config";
import { webConfig } from "@/server/config";

export default NextAuth(() => ({ ...authConfig, secret: webConfig().authSecret })).auth;

export const config = {
  matcher: ["/((?!api/|_next/static|_next/image|favicon.ico|robots.txt).*)"],
};
