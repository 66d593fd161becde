/** The fingerprints a device holds and its shared findings (domain/shared-holdings.ts). */
import type { Device, Slot } from '../../../functions/domain/device';
import {
  carriedSharedFindings,
  heldKeysOf,
  holdersIn,
  holdingKey,
  holdingsOf,
  judgedUnder,
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

describe('the holders of a key and what a change carries', () => {
  const other = (id: string, certificate: string) => ({ device: id, slot: 'identity', certificate });

  it('names the slots holding a key, and judges the key and each certificate under it', () => {
    const d = device('ACTIVE', slot('ACTIVE', 'c1', 'k1'), { tls: slot('ACTIVE', 'c2', 'k2') });
    expect(holdersIn(d, 'k1')).toEqual([{ device: 'me', slot: 'identity', certificate: 'c1' }]);
    expect([...heldKeysOf(d)]).toEqual(['k1', 'k2']);
    const mine = holdersIn(d, 'k1');
    expect([...judgedUnder(d, 'k1', mine)]).toEqual([
      [K1, false],
      [C1, false],
    ]);
    expect([...judgedUnder(d, 'k1', [...mine, other('x', 'c9')])]).toEqual([
      [K1, true],
      [C1, false],
    ]);
    expect([...judgedUnder(d, 'k1', [...mine, other('x', 'c1')])]).toEqual([
      [K1, true],
      [C1, true],
    ]);
    // A key the device does not hold judges nothing of it.
    expect(judgedUnder(d, 'k9', [other('x', 'c9')]).size).toBe(0);
  });

  it('carries the shared findings of a slot still holding the fingerprint they name, no other', () => {
    const before = device('ACTIVE', slot('ACTIVE', 'c1', 'k1'));
    const open = withSharedFindings(
      [],
      holdingsOf(before),
      new Map([
        [K1, true],
        [C1, true],
      ]),
      't1',
    );
    expect(open.map((f) => f.check).sort()).toEqual(['shared-certificate', 'shared-key']);
    expect(carriedSharedFindings(before, open)).toEqual(open);
    // A new certificate over the same key: the key's finding stays, the certificate's goes.
    expect(carriedSharedFindings(device('ACTIVE', slot('ACTIVE', 'c2', 'k1')), open).map((f) => f.check)).toEqual([
      'shared-key',
    ]);
    expect(carriedSharedFindings(device('ACTIVE', slot('REVOKED', 'c1', 'k1')), open)).toEqual([]);
    const weak = { check: 'weak-key' as const, slot: 'identity', since: 't0', detail: 'RSA-1024' };
    expect(carriedSharedFindings(before, [weak])).toEqual([]);
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
