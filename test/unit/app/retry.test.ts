import { retryOnConflict, type RetryTimer } from '../../../functions/app/retry';
import type { BackoffPolicy } from '../../../functions/domain/backoff';
import { ContentionError, DeviceNotFoundError, VersionConflictError } from '../../../functions/domain/errors';

/** A fake timer: sleeping advances its clock; randomness is a fixed sequence. */
function fakeTimer(randoms: number[]): RetryTimer & { sleeps: number[]; t: number } {
  let i = 0;
  const timer = {
    t: 0,
    sleeps: [] as number[],
    now: () => timer.t,
    sleep: async (ms: number) => {
      timer.sleeps.push(ms);
      timer.t += ms;
    },
    random: () => randoms[i++ % randoms.length]!,
  };
  return timer;
}

const policy: BackoffPolicy = { baseMs: 10, capMs: 100, budgetMs: 1000 };

describe('retryOnConflict', () => {
  it('retries a lost version race with full-jitter sleeps until it succeeds', async () => {
    const timer = fakeTimer([0.5, 0.25, 0.75]);
    let calls = 0;
    const result = await retryOnConflict({ policy, timer }, 'device d', async (attempt) => {
      expect(attempt).toBe(calls);
      if (calls++ < 4) throw new VersionConflictError('d');
      return 'done';
    });
    expect(result).toBe('done');
    expect(timer.sleeps).toEqual([5, 5, 30, 40]);
  });

  it(
    'gives up with ContentionError (Retry-After) once the time ' + 'budget is spent, however many attempts that took',
    async () => {
      const timer = fakeTimer([0.999]);
      let calls = 0;
      const run = retryOnConflict({ policy, timer }, 'device d', async () => {
        calls++;
        timer.t += 20; // each attempt takes 20 ms
        throw new VersionConflictError('d');
      });
      await expect(run).rejects.toThrow(ContentionError);
      await expect(run).rejects.toMatchObject({
        retryAfterSeconds: 1,
        message: 'device d is being changed concurrently; try again',
      });
      expect(timer.t).toBeGreaterThanOrEqual(policy.budgetMs);
      expect(timer.t).toBeLessThan(policy.budgetMs + 20 + 20);
      // 4 growing sleeps (9, 19, 39, 79), then 99 ms each until the budget is spent.
      expect(timer.sleeps.slice(0, 5)).toEqual([9, 19, 39, 79, 99]);
      expect(calls).toBe(timer.sleeps.length + 1);
    },
  );

  it('rethrows any other error at once', async () => {
    const timer = fakeTimer([0.5]);
    await expect(
      retryOnConflict({ policy, timer }, 'x', async () => Promise.reject(new DeviceNotFoundError('d'))),
    ).rejects.toThrow(DeviceNotFoundError);
    expect(timer.sleeps).toEqual([]);
  });
});
