/** The dashboard's shell: sign-in gate, navigation, and the page of the current route. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type AuthState, authState, onAuthChange, signInWithIssuer, signInWithToken, signOut, startAuth } from './auth';
import { DevicePage } from './pages/device';
import { DevicesPage } from './pages/devices';
import { FleetPage } from './pages/fleet';
import { GroupsPage } from './pages/groups';
import { FindingPage, JobPage, NewJobPage, PosturePage } from './pages/posture';
import { href, useRoute } from './router';
import { messageOf } from './ui';

const PAGES = [
  { key: 'fleet', label: 'Fleet' },
  { key: 'devices', label: 'Devices' },
  { key: 'groups', label: 'Groups' },
  { key: 'posture', label: 'Posture' },
] as const;

function SignIn({ auth }: { auth: AuthState }) {
  const [value, setValue] = useState('');
  return (
    <section class="card signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      {auth.reason && (
        <p class="error" role="alert">
          {auth.reason}
        </p>
      )}
      {auth.mode === 'token' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            signInWithToken(value);
          }}
        >
          <label for="token">Access token (JWT) from the issuer the API trusts</label>
          <textarea
            id="token"
            rows={4}
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            required
            spellcheck={false}
          />
          <button type="submit">Use this token</button>
        </form>
      ) : (
        <button type="button" onClick={() => void signInWithIssuer()}>
          Sign in with your identity provider
        </button>
      )}
    </section>
  );
}

/** `#/posture`, `#/posture/findings/<check>`, `#/posture/jobs/new`, `#/posture/jobs/<id>`. */
function PostureRoute({ path, query }: { path: string[]; query: URLSearchParams }) {
  const [kind, id] = path;
  if (kind === 'findings' && id !== undefined) return <FindingPage check={id} query={query} />;
  if (kind === 'jobs' && id === 'new') return <NewJobPage key={query.toString()} query={query} />;
  if (kind === 'jobs' && id !== undefined) return <JobPage id={id} query={query} />;
  return <PosturePage query={query} />;
}

function Page() {
  const route = useRoute();
  const [first, id] = route.path;
  if (route.malformed !== undefined)
    return (
      <div class="error" role="alert">
        This link is not valid: '{route.malformed}' is not percent-encoded text, so it names no device or group.{' '}
        <a href={href(['fleet'])}>Go to the fleet</a>.
      </div>
    );
  if (first === 'devices' && id !== undefined) return <DevicePage id={id} />;
  if (first === 'devices') return <DevicesPage query={route.query} />;
  if (first === 'groups') return <GroupsPage selected={id} query={route.query} />;
  if (first === 'posture') return <PostureRoute path={route.path.slice(1)} query={route.query} />;
  if (first === 'fleet' || first === undefined) return <FleetPage query={route.query} />;
  return (
    <div class="error" role="alert">
      No page here ({location.hash}). <a href={href(['fleet'])}>Go to the fleet</a>.
    </div>
  );
}

function App() {
  const [auth, setAuth] = useState<AuthState | undefined>();
  const [failure, setFailure] = useState<unknown>();
  const route = useRoute();
  useEffect(() => {
    const off = onAuthChange(setAuth);
    startAuth().then(() => setAuth(authState()), setFailure);
    return off;
  }, []);
  const current = route.path[0] ?? 'fleet';
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <span class="brand">Device Manager</span>
        <nav aria-label="Main">
          {PAGES.map((p) => (
            <a key={p.key} href={href([p.key])} aria-current={current === p.key ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        {auth && auth.mode !== 'none' && auth.signedIn && (
          <button type="button" class="link" onClick={() => void signOut()}>
            Sign out{auth.user ? ` ${auth.user}` : ''}
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {failure !== undefined ? (
          <div class="error" role="alert">
            The dashboard could not start: {messageOf(failure)}
          </div>
        ) : !auth ? (
          <p class="muted">Starting…</p>
        ) : auth.signedIn ? (
          <Page />
        ) : (
          <SignIn auth={auth} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
