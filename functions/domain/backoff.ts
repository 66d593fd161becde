/**
 * The one backoff of every retry loop: full jitter (a uniformly random sleep up to an exponentially growing
 * cap, AWS Architecture Blog "Exponential Backoff And Jitter"), bounded either by time ({@link BackoffPolicy})
 * or by a number of attempts ({@link RetryPolicy}). Pure: time and randomness are arguments.
 */

/** The sleep caps: `baseMs` before the first retry, doubling with each retry up to `capMs`. */
export interface JitterCurve {
  /** Cap of the first retry's sleep, in ms; doubles with each retry. */
  baseMs: number;
  /** Largest sleep cap, in ms. */
  capMs: number;
}

/** The full-jitter sleep before retry number `retry` (0 for the first); `random` is uniform in [0, 1). */
export function fullJitter(curve: JitterCurve, retry: number, random: number): number {
  return Math.floor(random * Math.min(curve.capMs, curve.baseMs * 2 ** Math.min(retry, 30)));
}

/** Retries bounded by a number of attempts (calls to AWS services, the CLI's HTTP calls). */
export interface RetryPolicy extends JitterCurve {
  /** Attempts in all, the first included. */
  attempts: number;
}

/** The sleep after failed attempt `attempt` (counted from 1), or undefined when the attempts are spent. */
export function attemptDelay(policy: RetryPolicy, attempt: number, random: number): number | undefined {
  return attempt >= policy.attempts ? undefined : fullJitter(policy, attempt - 1, random);
}

/**
 * Backoff of a lost optimistic-concurrency race (docs/api.md, Limits and edges): a time bound rather than an
 * attempt count, so many blind writers to one item spread out and all land, and a caller gives up (503) only
 * after seconds of contention.
 */
export interface BackoffPolicy extends JitterCurve {
  /** Time from the first attempt after which no retry starts, in ms. */
  budgetMs: number;
}

/**
 * 6 s of retries (VERSION_RETRY_SECONDS), within the API functions' 10 s timeout; sleeps grow to 2 s
 * so 50+ writers to one device spread out instead of colliding again (full jitter needs a cap of
 * the order of writers × write time).
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 10, capMs: 2000, budgetMs: 6000 };

/**
 * The sleep before retry number `retry` (0 for the first), or undefined when the budget is spent.
 * `random` is uniform in [0, 1); the sleep never runs past the budget.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  retry: number,
  elapsedMs: number,
  random: number,
): number | undefined {
  const left = policy.budgetMs - elapsedMs;
  if (left <= 0) return undefined;
  return Math.min(fullJitter(policy, retry, random), left);
}

/** The `Retry-After` (seconds, at least 1) a client gets when the budget is spent: one full sleep cap. */
export function retryAfterSeconds(policy: BackoffPolicy): number {
  return Math.max(1, Math.ceil(policy.capMs / 1000));
}
