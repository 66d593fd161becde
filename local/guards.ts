/**
 * Checks the local server makes before any route runs: the Host header (a page on another site that
 * rebinds its DNS name to 127.0.0.1 reaches the loopback port, but still sends its own name), the
 * authorizer and the media type of the local-only routes, and telling a client abort from a crash.
 */
import type { IncomingMessage } from 'node:http';
import type { AuthResult } from './auth';

export interface Refusal {
  status: number;
  body: { err: string; code: string };
}

/** The names a loopback client sends in Host; ALLOWED_HOSTS adds more (comma separated). */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** ALLOWED_HOSTS (comma-separated host names, each optionally with `:port`), lower-cased; [] when unset. */
export function allowedHostsFrom(env: Record<string, string | undefined>): string[] {
  return (env.ALLOWED_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Refuses (421) a request whose Host is not a loopback name or one of `extra`: with the server's
 * own port, or no port. Names in `extra` may carry a port, which must then match exactly.
 */
export function hostGuard(
  extra: readonly string[] = [],
): (host: string | undefined, port: number) => Refusal | undefined {
  const names = new Set([...LOOPBACK_HOSTS, ...extra]);
  return (host, port) => {
    const given = (host ?? '').trim().toLowerCase();
    const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(given);
    const ok =
      match !== null &&
      (names.has(given) || (names.has(match[1]!) && (match[2] === undefined || Number(match[2]) === port)));
    if (ok) return undefined;
    return {
      status: 421,
      body: {
        err:
          `Host '${given.slice(0, 100)}' is not served here: only ${[...names].join(', ')} ` +
          `(ALLOWED_HOSTS adds names)`,
        code: 'MISDIRECTED_REQUEST',
      },
    };
  };
}

/** The contract's answer to a failed authorization. */
export function authRefusal(verdict: Extract<AuthResult, { ok: false }>): Refusal {
  return {
    status: verdict.status,
    body: { err: verdict.message, code: verdict.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN' },
  };
}

/**
 * A local-only POST route takes JSON only: a page on another origin can send a "simple" cross-origin
 * request (text/plain, form data) without a CORS preflight, but never `application/json`.
 */
export function mediaTypeRefusal(req: IncomingMessage): Refusal | undefined {
  if (req.method !== 'POST') return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return undefined;
  return {
    status: 415,
    body: { err: `content-type must be application/json, not '${type.slice(0, 100)}'`, code: 'UNSUPPORTED_MEDIA_TYPE' },
  };
}

/** Whether a failure is the client going away mid-request (nothing to report: the socket is gone). */
export function isClientAbort(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
