/** Retry policy of the CLI's requests (pure). */
import { isRetryableNetworkError, isRetryableStatus, parseRetryAfter, retryDelayMs } from '../../../cli/retry';

const policy = { attempts: 4, baseMs: 100, capMs: 350 };

describe('retry policy', () => {
  it('retries throttling and server errors, not client errors', () => {
    expect([429, 500, 502, 503, 504].map(isRetryableStatus)).toEqual([true, true, true, true, true]);
    expect([200, 201, 400, 401, 404, 409, 412, 422].map(isRetryableStatus)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableNetworkError(new Error('x'))).toBe(false);
  });

  it('backs off exponentially with full jitter, capped, until the attempts are spent', () => {
    expect([1, 2, 3].map((a) => retryDelayMs(policy, a, undefined, 0, 0.999))).toEqual([99, 199, 349]);
    expect(retryDelayMs(policy, 2, undefined, 0, 0.5)).toBe(100);
    expect(retryDelayMs(policy, 4, undefined, 0, 0.5)).toBeUndefined();
  });

  it('honours Retry-After in seconds or as an HTTP date, within a ceiling', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(retryDelayMs(policy, 1, '3', now, 0.5)).toBe(3000);
    expect(retryDelayMs(policy, 1, 'Tue, 01 Dec 2026 10:00:07 GMT', now, 0.5)).toBe(7000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('99999', now)).toBe(120_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(retryDelayMs(policy, 4, '3', now, 0.5)).toBeUndefined();
  });
});
