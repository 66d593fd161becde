/**
 * CORS for the local server (CORS_ALLOWED_ORIGINS, comma separated), answering like the deployed HTTP
 * API's CORS configuration (setting `cors`): a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered 204 by the server itself, without authorization, and
 * Access-Control-* headers are added only for an allowed origin. Off when the variable is unset.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_SECONDS,
  isCorsOrigin,
} from '../functions/http/cors';

export interface CorsPolicy {
  allowedOrigins: readonly string[];
}

/** Reads CORS_ALLOWED_ORIGINS; undefined when unset or empty. */
export function corsPolicyFrom(env: Record<string, string | undefined>): CorsPolicy | undefined {
  const origins = (env.CORS_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.length === 0) return undefined;
  const bad = origins.find((o) => !isCorsOrigin(o));
  if (bad)
    throw new Error(
      `configuration CORS_ALLOWED_ORIGINS: '${bad}' is not an origin ` +
        `such as https://dashboard.example.com (scheme and host, no ` +
        `path; http only to localhost)`,
    );
  return { allowedOrigins: origins };
}

/**
 * Applies the policy to one request: answers a preflight (returns true: nothing else to do), or sets
 * the headers of an allowed origin on `res` for the response written later (returns false).
 */
export function applyCors(policy: CorsPolicy, req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  const allowed = origin !== undefined && policy.allowedOrigins.includes(origin);
  // Caches must keep answers for different origins apart.
  res.setHeader('vary', 'origin');
  const preflight =
    req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
  if (preflight) {
    res.writeHead(
      204,
      allowed
        ? {
            'access-control-allow-origin': origin,
            'access-control-allow-methods': CORS_ALLOWED_METHODS.join(','),
            'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(','),
            'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
          }
        : {},
    );
    res.end();
    return true;
  }
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS.join(','));
  }
  return false;
}
