"use client";

import Link from "next/link";
import { useActionState } from "react";
import type { AuthFormState } from "./actions";

interface Props {
  readonly mode: "sign-in" | "sign-up";
  readonly action: (state: AuthFormState, form: FormData) => Promise<AuthFormState>;
}

/** The email + password form shared by sign-in and sign-up. */
export function AuthForm({ mode, action }: Props) {
  const [state, submit, pending] = useActionState(action, { error: null, email: "" });
  const signUp = mode === "sign-up";
  return (
    <form action={submit} className="form" aria-describedby={state.error ? "auth-error" : undefined}>
      <label className="field">
        <span>Email</span>
        <input name="email" type="email" autoComplete="email" required defaultValue={state.email} autoFocus />
      </label>
      <label className="field">
        <span>Password</span>
        <input name="password" type="password" autoComplete={signUp ? "new-password" : "current-password"}
          required minLength={signUp ? 8 : undefined} maxLength={72} />
      </label>
      {signUp ? (
        <label className="field">
          <span>Confirm password</span>
          <input name="confirm" type="password" autoComplete="new-password" required minLength={8} maxLength={72} />
        </label>
      ) : null}
      {state.error ? (
        <p id="auth-error" className="notice notice-error" role="alert">
          {state.error}
        </p>
      ) : null}
      <button type="submit" className="button button-primary" disabled={pending}>
        {signUp ? (pending ? "Creating account…" : "Create account") : pending ? "Signing in…" : "Sign in"}
      </button>
      <p className="muted small">
        {signUp ? (
          <>Already have an account? <Link href="/sign-in">Sign in</Link></>
        ) : (
          <>New here? <Link href="/sign-up">Create an account</Link></>
        )}
      </p>
    </form>
  );
}
