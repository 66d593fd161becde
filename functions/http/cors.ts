/**
 * The CORS policy of the API for browser clients on another origin (a dashboard served elsewhere, e.g.
 * Lamassu's): one definition for the deployed HTTP API (setting `cors`, lib/constructs/api.ts) and the
 * local server (CORS_ALLOWED_ORIGINS, local/cors.ts), so both answer a preflight alike.
 */

/** An https origin, or http to a loopback host (a browser client in local development); no path. */
const CORS_ORIGIN = /^(https:\/\/[A-Za-z0-9.-]+|http:\/\/(localhost|127\.0\.0\.1|\[::1\]))(:\d{1,5})?$/;

export const isCorsOrigin = (origin: string): boolean => CORS_ORIGIN.test(origin);

/** Methods of the API's routes. */
export const CORS_ALLOWED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Request headers a browser client sends: the bearer token, JSON bodies, optimistic concurrency. */
export const CORS_ALLOWED_HEADERS = ['authorization', 'content-type', 'if-match'] as const;
/** Response headers a browser client may read: the version a later If-Match sends. */
export const CORS_EXPOSED_HEADERS = ['etag'] as const;
/** How long a browser may cache a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 3600;
