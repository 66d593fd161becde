import fc from 'fast-check';
import { parseDuration } from '../../../functions/domain/duration';
import { nextSlotChange, type RenewalWindows, slotStatusAt, windowsOf } from '../../../functions/domain/status';

const DAY = 86_400_000;

describe('durations', () => {
  it.each([
    ['90d', 90 * DAY],
    ['36h', 36 * 3_600_000],
    ['30m', 30 * 60_000],
    ['1d12h', 36 * 3_600_000],
    ['45s', 45_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '0d', '10', 'd', '1w', '-1d', '1.5d', '12h1d'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
  it('rejects critical ≥ preventive', () =>
    expect(() => windowsOf({ preventive_delta: '14d', critical_delta: '14d' })).toThrow(RangeError));
});

/** Generated policies (C < P) and instants around the boundaries of a certificate. */
const policyArb = fc
  .tuple(fc.integer({ min: 1, max: 400 * DAY }), fc.integer({ min: 1, max: 400 * DAY }))
  .filter(([a, b]) => a !== b)
  .map(([a, b]): RenewalWindows => ({ preventiveMs: Math.max(a, b), criticalMs: Math.min(a, b) }));
const expiresAt = Date.parse('2027-03-15T10:00:00Z');

describe('status rules (docs/api.md, Status rules), property-based', () => {
  it('follows the rule at every instant', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: -800 * DAY, max: 10 * DAY }), (policy, offset) => {
        const now = expiresAt + offset;
        const expected =
          now >= expiresAt
            ? 'EXPIRED'
            : now >= expiresAt - policy.criticalMs
              ? 'EXPIRING_SOON'
              : now >= expiresAt - policy.preventiveMs
                ? 'RENEWAL_PENDING'
                : 'ACTIVE';
        expect(slotStatusAt({ revoked: false, expiresAt }, policy, now)).toBe(expected);
      }),
    );
  });

  it('changes exactly at each boundary: 1 ms before is the earlier status, the boundary is the later one', () => {
    fc.assert(
      fc.property(policyArb, (policy) => {
        const slot = { revoked: false, expiresAt };
        const boundaries: [number, string, string][] = [
          [expiresAt - policy.preventiveMs, 'ACTIVE', 'RENEWAL_PENDING'],
          [expiresAt - policy.criticalMs, 'RENEWAL_PENDING', 'EXPIRING_SOON'],
          [expiresAt, 'EXPIRING_SOON', 'EXPIRED'],
        ];
        for (const [at, before, after] of boundaries) {
          expect(slotStatusAt(slot, policy, at - 1)).toBe(before);
          expect(slotStatusAt(slot, policy, at)).toBe(after);
        }
      }),
    );
  });

  it('nextSlotChange is the first instant after now where the status differs, and nothing changes before it', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: -800 * DAY, max: 10 * DAY }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (policy, offset, fraction) => {
          const slot = { revoked: false, expiresAt };
          const now = expiresAt + offset;
          const next = nextSlotChange(slot, policy, now);
          const status = slotStatusAt(slot, policy, now);
          if (next === undefined) {
            expect(status).toBe('EXPIRED');
            return;
          }
          expect(next).toBeGreaterThan(now);
          expect(slotStatusAt(slot, policy, next)).not.toBe(status);
          const between = now + Math.floor((next - 1 - now) * fraction);
          expect(slotStatusAt(slot, policy, between)).toBe(status);
        },
      ),
    );
  });

  it('a revoked slot is REVOKED forever and has no boundary; a secret without expiry stays ACTIVE', () => {
    fc.assert(
      fc.property(policyArb, fc.integer(), (policy, now) => {
        expect(slotStatusAt({ revoked: true, expiresAt }, policy, now)).toBe('REVOKED');
        expect(nextSlotChange({ revoked: true, expiresAt }, policy, now)).toBeUndefined();
        expect(slotStatusAt({ revoked: false }, policy, now)).toBe('ACTIVE');
        expect(nextSlotChange({ revoked: false }, policy, now)).toBeUndefined();
      }),
    );
  });
});
