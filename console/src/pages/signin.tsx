// Sign-in: the bearer token goes to the server once and comes back as an httpOnly cookie; the page keeps nothing.
import { useState } from 'preact/hooks';
import { api, ApiFailure, type SessionInfo } from '../api';
import { ErrorBox, Progress } from '../ui';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: SessionInfo) => void; notice: string | null }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <main class="signin" id="main">
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const s = await api.post<SessionInfo>('/console/api/session', { token: token.trim() });
            setToken('');
            onSignedIn(s);
          } catch (err) {
            setError(
              err instanceof ApiFailure && err.status === 401
                ? new ApiFailure(401, err.code, 'This token is not valid: it is unknown or was revoked. Check that you pasted all of it, or ask an administrator for a new one.')
                : err,
            );
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>
          <span class="logo" aria-hidden="true" /> Facegate console
        </h1>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="muted">
          A tenant's bearer token (<code>npm run cli -- tokens create --client NAME</code>). It is exchanged for a session cookie and never stored by this page.
        </p>
        {error !== null && <ErrorBox error={error} />}
        {busy ? <Progress label="Signing in…" /> : <button type="submit">Sign in</button>}
      </form>
    </main>
  );
}
