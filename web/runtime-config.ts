/**
 * What the dashboard reads from `/dashboard-config.json` to know how to sign in. The local server
 * writes it from AUTH_JWKS, the stack from its auth and dashboard settings.
 */
export type DashboardRuntimeConfig =
  | { auth: 'none' }
  | { auth: 'token' }
  | { auth: 'oidc'; authority: string; client_id: string; scope: string };
