/**
 * Backoff of a lost optimistic-concurrency race (docs/api.md, Limits and edges): full jitter (a uniformly random sleep
 * up to an exponentially growing cap, AWS Architecture Blog "Exponential Backoff And Jitter") and a
 * time bound rather than an attempt count, so many blind writers to one item spread out and all land,
 * and a caller gives up (503) only after seconds of contention. Pure: time and randomness are arguments.
 */

export interface BackoffPolicy {
  /** Cap of the first retry's sleep, in ms; doubles with each retry. */
  baseMs: number;
  /** Largest sleep cap, in ms. */
  capMs: number;
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
  const cap = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(retry, 30));
  return Math.min(Math.floor(random * cap), left);
}

/** The `Retry-After` (seconds, at least 1) a client gets when the budget is spent: one full sleep cap. */
export function retryAfterSeconds(policy: BackoffPolicy): number {
  return Math.max(1, Math.ceil(policy.capMs / 1000));
}
