import {
  attemptDelay,
  backoffDelay,
  DEFAULT_BACKOFF,
  fullJitter,
  retryAfterSeconds,
  type BackoffPolicy,
} from '../../../functions/domain/backoff';
import { DEFAULT_RETRY } from '../../../functions/adapters/dynamodb/transact';

const policy: BackoffPolicy = { baseMs: 10, capMs: 200, budgetMs: 3000 };

describe('full-jitter backoff with a time bound', () => {
  it('sleeps a uniform fraction of a cap that doubles per retry up to capMs', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((retry) => backoffDelay(policy, retry, 0, 0.999999))).toEqual([
      9, 19, 39, 79, 159, 199, 199,
    ]);
    expect(backoffDelay(policy, 3, 0, 0.5)).toBe(40);
    expect(backoffDelay(policy, 3, 0, 0)).toBe(0);
  });

  it('depends on elapsed time, not on the number of retries', () => {
    expect(backoffDelay(policy, 1000, 2999, 0.5)).toBe(1);
    expect(backoffDelay(policy, 1000, 2900, 0.9)).toBe(100);
    expect(backoffDelay(policy, 0, 3000, 0.5)).toBeUndefined();
    expect(backoffDelay(policy, 0, 4000, 0.5)).toBeUndefined();
  });

  it('the default gives up only after seconds, within the 10 s API function timeout', () => {
    expect(DEFAULT_BACKOFF.budgetMs).toBeGreaterThanOrEqual(3000);
    expect(DEFAULT_BACKOFF.budgetMs + DEFAULT_BACKOFF.capMs).toBeLessThan(10_000);
    expect(retryAfterSeconds(DEFAULT_BACKOFF)).toBe(2);
    expect(retryAfterSeconds({ ...policy, capMs: 2500 })).toBe(3);
  });
});

describe('full-jitter backoff with an attempt bound', () => {
  const retry = { attempts: 4, baseMs: 100, capMs: 350 };

  it('sleeps after each failed attempt but the last, the cap doubling from baseMs up to capMs', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => attemptDelay(retry, attempt, 0.999999))).toEqual([
      99,
      199,
      349,
      undefined,
      undefined,
    ]);
    expect(attemptDelay(retry, 2, 0.5)).toBe(100);
    expect(attemptDelay(retry, 1, 0)).toBe(0);
  });

  it('is the time-bounded curve, counted from the first failed attempt', () => {
    for (const retryIndex of [0, 1, 2, 7, 40])
      expect(attemptDelay({ ...retry, attempts: 100 }, retryIndex + 1, 0.7)).toBe(fullJitter(retry, retryIndex, 0.7));
    expect(fullJitter(retry, 1000, 0.999999)).toBe(349);
  });

  it('transactions keep their schedule: caps of 20 ms doubling to 500 ms over 8 attempts', () => {
    const caps = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => attemptDelay(DEFAULT_RETRY, attempt, 0.999999));
    expect(caps).toEqual([19, 39, 79, 159, 319, 499, 499, undefined]);
  });
});
