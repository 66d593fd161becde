import {
  backoffDelay,
  DEFAULT_BACKOFF,
  retryAfterSeconds,
  type BackoffPolicy,
} from '../../../functions/domain/backoff';

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
