/** Re-running a read-modify-write that lost a version race, with the backoff of functions/domain/backoff.ts. */
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF, retryAfterSeconds } from '../domain/backoff';
import { ContentionError, VersionConflictError } from '../domain/errors';

/** Time and randomness of the retries; tests inject a fake timer so the schedule is deterministic. */
export interface RetryTimer {
  /** Monotonic milliseconds (not the domain clock: a test's fixed clock must not stop the budget). */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
}

export const REAL_TIMER: RetryTimer = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

export interface RetryOptions {
  policy?: BackoffPolicy;
  timer?: RetryTimer;
}

/**
 * Runs `attempt` until it does not throw VersionConflictError, sleeping with full jitter between
 * runs; once the time budget is spent, throws ContentionError (503 with `Retry-After`) saying `what`.
 * Any other error is rethrown at once.
 */
export async function retryOnConflict<T>(
  { policy = DEFAULT_BACKOFF, timer = REAL_TIMER }: RetryOptions,
  what: string,
  attempt: (retry: number) => Promise<T>,
  /** Which errors are a lost race to run again (default: VersionConflictError). */
  isConflict: (error: unknown) => boolean = (error) => error instanceof VersionConflictError,
): Promise<T> {
  const start = timer.now();
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(retry);
    } catch (error) {
      if (!isConflict(error)) throw error;
      const delay = backoffDelay(policy, retry, timer.now() - start, timer.random());
      if (delay === undefined)
        throw new ContentionError(`${what} is being changed concurrently; try again`, {
          cause: error,
          retryAfterSeconds: retryAfterSeconds(policy),
        });
      await timer.sleep(delay);
    }
  }
}
