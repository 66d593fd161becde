/**
 * Lamassu's CA API as the {@link CaRevocation} port: `PUT {caApiUrl}/api/ca/v1/certificates/{serial}/status`
 * with Lamassu's UpdateCertificateStatusBody `{status: "REVOKED", revocation_reason}` (Lamassu
 * backend/pkg/routes/ca.go, controllers/ca.go UpdateCertificateStatus), with Node's fetch and a timeout.
 *
 * Answers: 2xx revoked; 404 (ErrCertificateNotFound) an unknown serial; 409, 422, and Lamassu's own 400
 * "new status transition not allowed for certificate" (the certificate is already revoked, or expired)
 * already revoked; 429, 5xx, timeouts and network failures retryable; any other answer not retryable.
 *
 * Redirects are refused, never followed: a 3xx could send the PUT (and its Authorization header) to
 * another origin or over plain http, and the 200 found there would be taken for a revocation. It is
 * a failure, not retried within the invocation (the queue delivers it again, then dead-letters it).
 * Error texts (the CA's body, the network error) are logged by the caller: the header values sent,
 * and anything that looks like a credential, are redacted from them first.
 */
import { type CaRevocation, type CaRevocationOutcome, type CaRevocationRequest, CaRequestError } from '../../app/ports';
import { redactCredentials } from './redact';

export const CA_STATUS_PATH = '/api/ca/v1/certificates';
/** Lamassu's error text when the certificate cannot leave its status (already revoked, or expired). */
const TRANSITION_NOT_ALLOWED = /status transition not allowed/i;
export const DEFAULT_CA_TIMEOUT_MS = 5000;

export interface LamassuCaOptions {
  /** The CA service's base URL (no trailing `/api/...`). */
  baseUrl: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /**
   * Extra request headers (an Authorization header, for one), or a function giving them per request (a secret read
   * with a cache).
   */
  headers?: Record<string, string> | (() => Promise<Record<string, string>>);
  fetch?: typeof fetch;
}

export function lamassuCa({
  baseUrl,
  timeoutMs = DEFAULT_CA_TIMEOUT_MS,
  headers = {},
  fetch: doFetch = fetch,
}: LamassuCaOptions): CaRevocation {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async revoke(request: CaRevocationRequest): Promise<CaRevocationOutcome> {
      const url = `${base}${CA_STATUS_PATH}/${encodeURIComponent(request.serialNumber)}/status`;
      // Outside the try: a header that cannot be had (a missing secret) is no CA failure to retry.
      const extra = typeof headers === 'function' ? await headers() : headers;
      const redact = (text: string) => redactCredentials(text, Object.values(extra));
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, {
          method: 'PUT',
          headers: { ...extra, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ status: 'REVOKED', revocation_reason: request.revocationReason }),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
        text = await response.text();
      } catch (error) {
        // Duck-typed: the timeout's DOMException is not an Error of every realm. No cause: it may quote the request.
        const { name, message } = (error ?? {}) as { name?: string; message?: string };
        const what =
          name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : 'request failed';
        throw new CaRequestError(`CA ${what}: ${redact(message ?? String(error))}`, true);
      }
      const { status } = response;
      // 'manual' gives the 3xx itself (an opaque redirect, status 0, where fetch filters it).
      if ((status >= 300 && status < 400) || response.type === 'opaqueredirect') {
        throw new CaRequestError(
          `CA answered ${status || 'a redirect'}${redirectTarget(response, url)}: ` +
            `redirects are refused (set caApiUrl to the final URL)`,
          false,
          status || undefined,
        );
      }
      if (status >= 200 && status < 300) return 'revoked';
      if (status === 404) return 'unknown-serial';
      if (status === 409 || status === 422 || (status === 400 && TRANSITION_NOT_ALLOWED.test(text)))
        return 'already-revoked';
      const retryable = status === 429 || status >= 500;
      // Redacted before it is cut: a cut could leave part of a credential that no longer matches.
      throw new CaRequestError(`CA answered ${status}: ${redact(text).slice(0, 300)}`, retryable, status);
    },
  };
}

/** ` to <origin>` of a redirect's Location (the origin only: a path or query could carry anything). */
function redirectTarget(response: Response, url: string): string {
  const location = response.headers.get('location');
  if (!location) return '';
  try {
    return ` to ${new URL(location, url).origin}`;
  } catch {
    return ' to an unreadable Location';
  }
}
