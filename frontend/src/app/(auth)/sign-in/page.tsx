import type { Metadata } from "next";
import { oauthProviders } from "@/auth";
import { webConfig } from "@/server/config";
import { signInWithPassword, signInWithProvider } from "../actions";
import { AuthForm } from "../AuthForm";

export const metadata: Metadata = { title: "Sign in · Spotter" };
export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { readonly searchParams: Promise<{ deleted?: string }> }) {
  const { deleted } = await searchParams;
  const providers = oauthProviders();
  return (
    <>
      <h1>Sign in</h1>
      {deleted ? (
        <p className="notice notice-success" role="status">
          Your account and all of its data were deleted.
        </p>
      ) : null}
      {webConfig().environment === "development" ? (
        <p className="notice notice-success small" role="note">
          Development account: <code>demo@spotter.local</code> / <code>spotter-demo</code> (<code>npm run seed</code>)
        </p>
      ) : null}
      <AuthForm mode="sign-in" action={signInWithPassword} />
      {providers.length ? (
        <div className="oauth">
          <p className="muted small">or continue with</p>
          {providers.map((provider) => (
            <form key={provider.id} action={signInWithProvider}>
              <input type="hidden" name="provider" value={provider.id} />
              <button type="submit" className="button button-ghost wide">
                {provider.name}
              </button>
            </form>
          ))}
        </div>
      ) : null}
    </>
  );
}
