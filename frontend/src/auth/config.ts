/**
 * The edge-safe half of the Auth.js configuration: pages, session strategy and callbacks,
 * with no providers and nothing that touches the database, so `proxy.ts` (which guards the
 * pages) can load it. `auth/index.ts` adds the providers.
 */

import type { NextAuthConfig } from "next-auth";
import { credentialsSubject, subjectOf } from "@/server/identity/subject";

const PUBLIC_PAGES = new Set(["/sign-in", "/sign-up"]);

export const authConfig = {
  pages: { signIn: "/sign-in" },
  session: { strategy: "jwt", maxAge: 30 * 24 * 60 * 60 },
  providers: [],
  callbacks: {
    authorized({ auth, request: { nextUrl } }) {
      const signedIn = Boolean(auth?.subject);
      if (PUBLIC_PAGES.has(nextUrl.pathname)) {
        return signedIn ? Response.redirect(new URL("/", nextUrl)) : true;
      }
      return signedIn;
    },
    jwt({ token, user, account }) {
      // Runs with `account` only at sign-in: fix the namespaced subject for the session's life.
      if (account && user) {
        token.subject =
          account.provider === "credentials"
            ? credentialsSubject(String(user.id))
            : subjectOf(account.provider, account.providerAccountId);
      }
      return token;
    },
    session({ session, token }) {
      if (typeof token.subject === "string") session.subject = token.subject;
      return session;
    },
  },
} satisfies NextAuthConfig;
