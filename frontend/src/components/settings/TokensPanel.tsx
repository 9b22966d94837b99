"use client";

import { type FormEvent, useCallback, useEffect, useState } from "react";
import { problemMessage } from "@/api-client/problem";
import type { components } from "@/generated/openapi";

type ApiToken = components["schemas"]["ApiToken"];
type ApiTokenList = components["schemas"]["ApiTokenList"];
type CreatedApiToken = components["schemas"]["CreatedApiToken"];

/** Lists, creates and revokes personal API tokens; a new token's secret is shown once. */
export function TokensPanel() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    const response = await fetch("/api/v1/tokens", { cache: "no-store" });
    if (!response.ok) {
      setError(await problemMessage(response));
      return;
    }
    setTokens(((await response.json()) as ApiTokenList).items);
  }, []);

  useEffect(() => {
    // Fetching on mount is the point of this effect.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void load();
  }, [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const response = await fetch("/api/v1/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name }),
    });
    if (!response.ok) {
      setError(await problemMessage(response));
      return;
    }
    setCreated((await response.json()) as CreatedApiToken);
    setName("");
    await load();
  }

  async function revoke(token: ApiToken) {
    setError(null);
    const response = await fetch(`/api/v1/tokens/${token.id}`, { method: "DELETE" });
    if (!response.ok && response.status !== 404) {
      setError(await problemMessage(response));
      return;
    }
    if (created?.id === token.id) setCreated(null);
    await load();
  }

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Personal API tokens</h2>
      <p className="muted">
        For a mobile app or a script: send <code>Authorization: Bearer spt_…</code> to <code>/api/v1/…</code>.
      </p>
      <form className="row" onSubmit={create}>
        <label className="field grow">
          <span>Token name</span>
          <input type="text" required maxLength={100} placeholder="My phone" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="button button-primary align-end">Create token</button>
      </form>
      {created ? (
        <div className="notice notice-success" role="status">
          <p>
            <strong>{created.name}</strong>: copy this token now; it is not shown again.
          </p>
          <code className="secret" data-testid="new-token">{created.token}</code>
        </div>
      ) : null}
      {error ? <p className="notice notice-error" role="alert">{error}</p> : null}
      {tokens === null ? (
        <p className="muted">Loading tokens…</p>
      ) : tokens.length === 0 ? (
        <p className="muted">No tokens.</p>
      ) : (
        <ul className="token-list" aria-label="Your tokens">
          {tokens.map((token) => (
            <li key={token.id}>
              <div>
                <strong>{token.name}</strong>
                <div className="muted small">
                  Created {new Date(token.created_at).toLocaleString()} ·{" "}
                  {token.last_used_at ? `last used ${new Date(token.last_used_at).toLocaleString()}` : "never used"}
                </div>
              </div>
              <button type="button" className="button button-ghost button-small" aria-label={`Revoke ${token.name}`}
                onClick={() => void revoke(token)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
