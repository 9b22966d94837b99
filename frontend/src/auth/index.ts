/**
 * The full Auth.js setup: the edge-safe config plus the providers. Credentials (email and
 * password, checked against the account repository with throttling) always; GitHub and Google
 * only when their client id and secret are configured.
 */

import NextAuth, { CredentialsSignin } from "next-auth";
import type { Provider } from "next-auth/providers";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import { CredentialAccounts } from "@/server/accounts/credential-accounts";
import { accountRepository } from "@/server/accounts/store";
import { type WebConfig, webConfig } from "@/server/config";
import { authConfig } from "./config";

export class ThrottledSignIn extends CredentialsSignin {
  override code = "throttled";
}

function clientAddress(request: Request): string {
  const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || request.headers.get("x-real-ip") || "unknown";
}

function providers(config: WebConfig): Provider[] {
  const list: Provider[] = [
    Credentials({
      credentials: { email: { type: "email" }, password: { type: "password" } },
      async authorize(credentials, request) {
        const email = typeof credentials.email === "string" ? credentials.email : "";
        const password = typeof credentials.password === "string" ? credentials.password : "";
        if (!email || !password) return null;
        const accounts = new CredentialAccounts(await accountRepository(config));
        const result = await accounts.signIn(email, password, clientAddress(request));
        if (result === "throttled") throw new ThrottledSignIn();
        if (result === "invalid") return null;
        return { id: result.user.id, email: result.user.email };
      },
    }),
  ];
  if (config.github) list.push(GitHub({ clientId: config.github.id, clientSecret: config.github.secret }));
  if (config.google) list.push(Google({ clientId: config.google.id, clientSecret: config.google.secret }));
  return list;
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const config = webConfig();
  return {
    ...authConfig,
    secret: config.authSecret,
    providers: providers(config),
    logger: {
      // A wrong password or a throttled sign-in is an answer, not a server error.
      error(error: Error) {
        if (error.name !== "CredentialsSignin") console.error(error);
      },
    },
  };
});

/** The OAuth providers offered on the sign-in page. */
export function oauthProviders(): { id: string; name: string }[] {
  const config = webConfig();
  return [
    ...(config.github ? [{ id: "github", name: "GitHub" }] : []),
    ...(config.google ? [{ id: "google", name: "Google" }] : []),
  ];
}
