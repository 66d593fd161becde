/**
 * Sign-in, chosen by `/dashboard-config.json`:
 * - `none`: the local service without AUTH_JWKS; no token.
 * - `token`: the local service with AUTH_JWKS; the user pastes a JWT (kept in sessionStorage).
 * - `oidc`: the deployed stack; authorization code + PKCE against the API's JWT issuer with
 *   oidc-client-ts, which also refreshes the user silently where the issuer allows it.
 * A 401 from the API (expired or rejected token) drops the token and asks to sign in again, saying why.
 */
import { type User, UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { DashboardRuntimeConfig } from '../runtime-config';
import { type ApiError, configureApi } from './api';

export interface AuthState {
  mode: DashboardRuntimeConfig['auth'];
  /** Whether API calls can be made now. */
  signedIn: boolean;
  /** Why the user must sign in (again). */
  reason?: string;
  user?: string;
}

const TOKEN_KEY = 'device-manager.token';
let state: AuthState = { mode: 'none', signedIn: true };
let token: string | undefined;
let manager: UserManager | undefined;
const listeners = new Set<(s: AuthState) => void>();

function set(next: AuthState) {
  state = next;
  for (const l of listeners) l(state);
}

export const authState = () => state;
export function onAuthChange(listener: (s: AuthState) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The `exp` claim of a JWT in epoch seconds, if it has one (no verification: the API verifies). */
export function tokenExpiry(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

function signedOut(reason: string) {
  token = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  set({ mode: state.mode, signedIn: false, reason });
}

function fromUser(user: User | null) {
  if (user && !user.expired) {
    token = user.access_token;
    set({ mode: 'oidc', signedIn: true, user: (user.profile.email as string | undefined) ?? user.profile.sub });
  } else {
    set({ mode: 'oidc', signedIn: false, reason: user ? 'Your session has expired. Sign in again.' : undefined });
  }
}

/** Reads the config, completes an OIDC redirect if this page load is one, and wires the API client. */
export async function startAuth(): Promise<void> {
  configureApi({
    token: () => token,
    onUnauthorized: (error: ApiError) => {
      // Parallel requests fail together: the first 401 explains, the rest find the token gone.
      if (state.mode === 'none' || !state.signedIn) return;
      const exp = token ? tokenExpiry(token) : undefined;
      const expired = /expired/i.test(error.message) || (exp !== undefined && exp * 1000 <= Date.now());
      const when = exp !== undefined ? ` at ${new Date(exp * 1000).toISOString()}` : '';
      signedOut(
        expired
          ? `Your token has expired${when} (the API said: ${error.message}). Sign in again.`
          : `The API refused the token (${error.message}). Sign in again.`,
      );
    },
  });
  const res = await fetch('/dashboard-config.json');
  const config = (res.ok ? await res.json() : { auth: 'none' }) as DashboardRuntimeConfig;
  if (config.auth === 'none') return set({ mode: 'none', signedIn: true });
  if (config.auth === 'token') {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) return signInWithToken(saved);
    return set({ mode: 'token', signedIn: false });
  }
  manager = new UserManager({
    authority: config.authority,
    client_id: config.client_id,
    redirect_uri: `${location.origin}/`,
    post_logout_redirect_uri: `${location.origin}/`,
    response_type: 'code',
    scope: config.scope,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    automaticSilentRenew: false,
  });
  manager.events.addUserLoaded(fromUser);
  manager.events.addAccessTokenExpired(() => signedOut('Your session has expired. Sign in again.'));
  const query = new URLSearchParams(location.search);
  if (query.has('code') && query.has('state')) {
    try {
      const user = await manager.signinRedirectCallback();
      const back = (user.state as string | undefined) ?? '#/';
      history.replaceState(null, '', `/${back}`);
      // replaceState fires no hashchange: tell the router the view is back.
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      return fromUser(user);
    } catch (error) {
      history.replaceState(null, '', '/');
      return set({ mode: 'oidc', signedIn: false, reason: `Sign-in failed: ${(error as Error).message}` });
    }
  }
  fromUser(await manager.getUser());
}

/** Token mode: the API judges the token; its first 401 brings the user back here with the reason. */
export function signInWithToken(jwt: string): void {
  const trimmed = jwt.trim().replace(/^Bearer\s+/i, '');
  if (trimmed.split('.').length !== 3)
    return set({ mode: 'token', signedIn: false, reason: 'That is not a JWT (three dot-separated parts).' });
  token = trimmed;
  sessionStorage.setItem(TOKEN_KEY, trimmed);
  set({ mode: 'token', signedIn: true });
}

/** OIDC mode: off to the issuer; back at the same view afterwards. */
export async function signInWithIssuer(): Promise<void> {
  await manager?.signinRedirect({ state: location.hash || '#/' });
}

export async function signOut(): Promise<void> {
  if (state.mode === 'oidc') await manager?.removeUser();
  signedOut('Signed out.');
}
