"use server";

/** Server actions behind the sign-in and sign-up forms. */

import { AuthError, CredentialsSignin } from "next-auth";
import { signIn } from "@/auth";
import { CredentialAccounts } from "@/server/accounts/credential-accounts";
import { accountRepository } from "@/server/accounts/store";
import { webConfig } from "@/server/config";

export interface AuthFormState {
  readonly error: string | null;
  readonly email: string;
}

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}

async function passwordSignIn(email: string, password: string): Promise<AuthFormState> {
  try {
    // Redirects (by throwing) on success.
    await signIn("credentials", { email, password, redirectTo: "/" });
  } catch (error) {
    if (error instanceof CredentialsSignin && error.code === "throttled") {
      return { error: "Too many failed attempts. Wait 15 minutes and try again.", email };
    }
    if (error instanceof AuthError) return { error: "Wrong email or password.", email };
    throw error;
  }
  return { error: null, email };
}

export async function signInWithPassword(_: AuthFormState, form: FormData): Promise<AuthFormState> {
  return passwordSignIn(field(form, "email"), field(form, "password"));
}

export async function signUpWithPassword(_: AuthFormState, form: FormData): Promise<AuthFormState> {
  const email = field(form, "email");
  const password = field(form, "password");
  if (password !== field(form, "confirm")) return { error: "The passwords do not match.", email };
  const accounts = new CredentialAccounts(await accountRepository(webConfig()));
  const result = await accounts.signUp(email, password);
  if (!result.ok) return { error: result.problem, email };
  return passwordSignIn(email, password);
}

export async function signInWithProvider(form: FormData): Promise<void> {
  await signIn(field(form, "provider"), { redirectTo: "/" });
}
