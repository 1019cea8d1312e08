import { useState } from "preact/hooks";
import { signInWithKey, type Identity } from "../api";
import { describe } from "../ui";

export function SignIn({ onSignedIn, notice }: { onSignedIn: (who: Identity) => void; notice: string | null }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="centered" id="main">
      <section class="panel narrow">
        <h1>Herald Console</h1>
        {notice ? <p class="notice" role="status">{notice}</p> : null}
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              const who = await signInWithKey(key.trim());
              setKey(""); // the key is not kept: the console holds the session only
              onSignedIn(who);
            } catch (err) {
              setError(describe(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          <div class={`field${error ? " invalid" : ""}`}>
            <label for="api-key">API key</label>
            <input id="api-key" type="password" autocomplete="off" spellcheck={false} value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} required aria-describedby="api-key-hint" />
            <div class="hint" id="api-key-hint">
              Exchanged for a session of one hour with the key's access. The key itself is not stored.
            </div>
            {error ? <p class="field-error" role="alert">{error}</p> : null}
          </div>
          <button class="primary" type="submit" disabled={busy || !key.trim()}>
            Sign in
          </button>
        </form>
        <p class="muted">
          Or open a one-time link: <code>herald console --project demo</code> prints one (a platform embedding the console calls <code>POST /api/consoleLinks</code>).
        </p>
      </section>
    </main>
  );
}
