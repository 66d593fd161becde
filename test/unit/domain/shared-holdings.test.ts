/** The fingerprints a device holds and its shared findings (domain/shared-holdings.ts). */
import type { Device, Slot } from '../../../functions/domain/device';
import {
  holdingChanges,
  holdingKey,
  holdingsOf,
  NO_HOLDERS,
  otherHolder,
  withSharedFindings,
} from '../../../functions/domain/shared-holdings';

const crypto = (cert: string, key: string) => ({ sha256_fingerprint: cert, public_key_sha256: key }) as Slot['crypto'];
const slot = (status: Slot['status'], cert: string, key: string): Slot =>
  ({ type: 'x509', status, active_version: 1, crypto: crypto(cert, key) }) as unknown as Slot;
const device = (status: Device['status'], identity: Slot | undefined, slots: Record<string, Slot> = {}): Device =>
  ({ id: 'me', status, identity, slots }) as unknown as Device;

const C1 = holdingKey('certificate', 'c1');
const K1 = holdingKey('key', 'k1');

describe('holdingsOf', () => {
  it('holds each in-service slot certificate and key, with the slots holding each', () => {
    const d = device('ACTIVE', slot('ACTIVE', 'c1', 'k1'), { tls: slot('ACTIVE', 'c2', 'k1') });
    expect([...holdingsOf(d)]).toEqual([
      [C1, ['identity']],
      [K1, ['identity', 'tls']],
      [holdingKey('certificate', 'c2'), ['tls']],
    ]);
  });

  it('a revoked slot and a decommissioned device hold nothing', () => {
    expect(holdingsOf(device('ACTIVE', slot('REVOKED', 'c1', 'k1'))).size).toBe(0);
    expect(holdingsOf(device('DECOMMISSIONED', slot('ACTIVE', 'c1', 'k1'))).size).toBe(0);
  });
});

describe('moves and the other holder', () => {
  it('joins what is held and not counted, leaves what is counted and no longer held', () => {
    const held = holdingsOf(device('ACTIVE', slot('ACTIVE', 'c2', 'k1')));
    expect(holdingChanges([C1, K1], held)).toEqual({ joins: [holdingKey('certificate', 'c2')], leaves: [C1] });
  });

  it('names the other holder only when the count crosses 1 ↔ 2', () => {
    const one = { count: 1, listed: ['x'], version: 3 };
    const two = { count: 2, listed: ['x', 'me'], version: 4 };
    expect(otherHolder(one, 'me', 'join')).toEqual({ id: 'x', shared: true });
    expect(otherHolder(two, 'me', 'leave')).toEqual({ id: 'x', shared: false });
    expect(otherHolder(NO_HOLDERS, 'me', 'join')).toBeUndefined();
    expect(otherHolder(two, 'me', 'join')).toBeUndefined(); // a third holder: the others have it already
    expect(otherHolder({ count: 3, listed: ['x', 'y', 'me'], version: 5 }, 'me', 'leave')).toBeUndefined();
    // A count back to 2 from over the listed maximum may not list the other: nothing to name.
    expect(otherHolder({ count: 2, listed: ['me'], version: 9 }, 'me', 'leave')).toBeUndefined();
  });
});

describe('withSharedFindings', () => {
  const held = holdingsOf(device('ACTIVE', slot('ACTIVE', 'c1', 'k1'), { tls: slot('ACTIVE', 'c2', 'k1') }));
  const weak = { check: 'weak-key' as const, slot: 'identity', since: 't0', detail: 'RSA-1024' };

  it('puts the finding on every slot holding a shared fingerprint, keeping other checks', () => {
    const out = withSharedFindings([weak], held, new Map([[K1, true]]), 't1');
    expect(out.map((f) => `${f.slot}:${f.check}:${f.since}`)).toEqual([
      'identity:weak-key:t0',
      'identity:shared-key:t1',
      'tls:shared-key:t1',
    ]);
    expect(out[1]!.detail).toBe('public key sha256 k1 is in use on another device too');
  });

  it('keeps `since` of a finding still open and drops one no longer shared', () => {
    const open = withSharedFindings([weak], held, new Map([[K1, true]]), 't1');
    expect(withSharedFindings(open, held, new Map([[K1, true]]), 't2')).toEqual(open);
    expect(withSharedFindings(open, held, new Map([[K1, false]]), 't2')).toEqual([weak]);
    // A fingerprint not judged leaves its findings as they are.
    expect(withSharedFindings(open, held, new Map([[C1, false]]), 't2')).toEqual(open);
  });
});
