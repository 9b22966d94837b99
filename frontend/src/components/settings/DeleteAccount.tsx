"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { problemMessage } from "@/api-client/problem";

/** Deletes the account after a confirmation: the service erases the data, then the account goes. */
export function DeleteAccount() {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);

  async function remove() {
    setDeleting(true);
    setError(null);
    try {
      const response = await fetch("/api/v1/account", { method: "DELETE" });
      if (response.status !== 204) {
        setError(await problemMessage(response));
        return;
      }
      router.replace("/sign-in?deleted=1");
      router.refresh();
    } catch {
      setError("The web app could not be reached.");
    } finally {
      setDeleting(false);
    }
  }

  return (
    <section className="card card-danger" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete account</h2>
      <p className="muted">Erases your workouts, conversations and tokens, then the account itself. This cannot be undone.</p>
      {confirming ? (
        <div className="row">
          <button type="button" className="button button-danger" disabled={deleting} onClick={() => void remove()}>
            {deleting ? "Deleting…" : "Yes, delete everything"}
          </button>
          <button type="button" className="button button-ghost" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>
          Delete my account
        </button>
      )}
      {error ? <p className="notice notice-error" role="alert">{error}</p> : null}
    </section>
  );
}
