/**
 * Retry policy of the CLI's HTTP calls (pure: time and randomness come in as arguments).
 * Throttling (429), unavailability (503) and other 5xx answers, and lost connections, are retried
 * with exponential backoff and full jitter; a `Retry-After` header (seconds or an HTTP date) wins.
 */
import { attemptDelay, type RetryPolicy } from '../functions/domain/backoff';

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 100, capMs: 10_000 };

/** The longest wait a server's `Retry-After` may impose on one attempt. */
const MAX_RETRY_AFTER_MS = 120_000;

/** Answers worth another attempt: throttled, unavailable, or any other server error. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Network failures worth another attempt (the request may or may not have reached the server). */
export function isRetryableNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' &&
    [
      'ECONNRESET',
      'ECONNREFUSED',
      'EPIPE',
      'ETIMEDOUT',
      'EAI_AGAIN',
      'ENETUNREACH',
      'EHOSTUNREACH',
      'ECONNABORTED',
      'UND_ERR_SOCKET',
    ].includes(code)
  );
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/**
 * How long to wait before attempt `attempt + 1` (attempt counts from 1), or undefined when the
 * attempts are spent. `random` is in [0, 1).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: string | undefined,
  now: number,
  random: number,
): number | undefined {
  const delay = attemptDelay(policy, attempt, random);
  if (delay === undefined) return undefined;
  return parseRetryAfter(retryAfter, now) ?? delay;
}
