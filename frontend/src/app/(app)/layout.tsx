import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { auth, signOut } from "@/auth";
import { NavLinks } from "./NavLinks";

export const dynamic = "force-dynamic";

async function signOutAction() {
  "use server";
  await signOut({ redirectTo: "/sign-in" });
}

export default async function AppLayout({ children }: { readonly children: ReactNode }) {
  const session = await auth();
  if (!session?.subject) redirect("/sign-in");
  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true">S</span> <span className="brand-name">Spotter</span>
        </Link>
        <NavLinks />
        <form action={signOutAction} className="signout">
          <span className="muted small user-email" title={session.user?.email ?? undefined}>
            {session.user?.email ?? session.user?.name ?? ""}
          </span>
          <button type="submit" className="button button-ghost button-small">
            Sign out
          </button>
        </form>
      </header>
      <main id="main" className="main">
        {children}
      </main>
    </div>
  );
}
