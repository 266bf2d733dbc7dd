// The console's shell: sign-in gate, navigation, and the page for the current hash route.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiFailure, setCsrfToken, whenSessionEnds, type SessionInfo } from './api';
import { CollectionsPage } from './pages/collections';
import { ComparePage } from './pages/compare';
import { LivenessPage } from './pages/liveness';
import { PersonPage } from './pages/person';
import { PersonsPage } from './pages/persons';
import { RecordsPage } from './pages/records';
import { SearchPage } from './pages/search';
import { SignIn } from './pages/signin';
import { StatusPage } from './pages/status';
import { match, useRoute } from './router';
import { ErrorBox, Progress } from './ui';
import './styles.css';

const NAV: [string, string][] = [
  ['/collections', 'Collections'],
  ['/persons', 'Persons'],
  ['/search', 'Search by photo'],
  ['/compare', 'Compare'],
  ['/liveness', 'Liveness'],
  ['/records', 'Records'],
  ['/status', 'Status'],
];

function Page({ path }: { path: string }) {
  let p: Record<string, string> | null;
  if (path === '/collections') return <CollectionsPage />;
  if ((p = match('/collections/:id', path))) return <PersonsPage collection={p.id} />;
  if (path === '/persons') return <PersonsPage />;
  if ((p = match('/persons/:id', path))) return <PersonPage id={p.id} />;
  if (path === '/search') return <SearchPage />;
  if (path === '/compare') return <ComparePage />;
  if (path === '/liveness') return <LivenessPage />;
  if (path === '/records') return <RecordsPage />;
  if (path === '/status') return <StatusPage />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <a href="#/collections">Go to Collections</a>.
      </p>
    </section>
  );
}

function Shell({ session, onSignOut }: { session: SessionInfo; onSignOut: () => void }) {
  const path = useRoute();
  const main = useRef<HTMLElement>(null);
  const section = '/' + path.split('/')[1];
  const [busy, setBusy] = useState(false);
  // Moving between pages moves focus to the new page's content, as a page load would for screen readers.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
    scrollTo(0, 0);
  }, [path]);
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand" aria-label="Facegate console">
          <span class="logo" aria-hidden="true" />
          Facegate
        </span>
        <span class="tenant" title="The tenant this session acts for">
          Tenant <strong>{session.client}</strong>
        </span>
        <button
          type="button"
          class="secondary small"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            await api.del('/console/api/session').catch(() => undefined);
            onSignOut();
          }}
        >
          Sign out
        </button>
      </header>
      <nav aria-label="Console sections">
        <ul>
          {NAV.map(([href, label]) => {
            const current = section === href || (href === '/collections' && path.startsWith('/collections'));
            return (
              <li key={href}>
                <a href={`#${href}`} aria-current={current ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <Page path={path} />
      </main>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [state, setState] = useState<'checking' | 'out' | 'in' | 'error'>('checking');
  const [ended, setEnded] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const check = () => {
    setState('checking');
    // 204 (no session yet, or no longer) is the server's "sign in", not an error the browser would log.
    api.get<SessionInfo | undefined>('/console/api/session').then(
      (s) => {
        if (!s) {
          setState('out');
          return;
        }
        setCsrfToken(s.csrfToken);
        setSession(s);
        setState('in');
      },
      (err) => {
        if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) setState('out');
        else {
          setError(err);
          setState('error');
        }
      },
    );
  };
  useEffect(() => {
    check();
    whenSessionEnds((reason) => {
      setCsrfToken(null);
      setSession(null);
      setEnded(reason);
      setState('out');
    });
  }, []);

  if (state === 'checking') return <div class="center"><Progress label="Opening the console…" /></div>;
  if (state === 'error') return <div class="center"><ErrorBox error={error} onRetry={check} /></div>;
  if (state === 'out' || !session)
    return (
      <SignIn
        notice={ended}
        onSignedIn={(s) => {
          setCsrfToken(s.csrfToken);
          setSession(s);
          setEnded(null);
          setState('in');
        }}
      />
    );
  return (
    <Shell
      session={session}
      onSignOut={() => {
        setCsrfToken(null);
        setSession(null);
        setEnded('You are signed out.');
        setState('out');
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
