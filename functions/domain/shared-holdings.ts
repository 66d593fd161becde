/**
 * The fingerprints a device holds, for the `shared-certificate` and `shared-key` checks (docs/api.md,
 * Fleet posture): each in-service x509 slot with a kept profile holds its certificate's SHA-256 and
 * its public key's SHA-256. One item per fingerprint counts its holders (docs/data-model.md, Shared
 * fingerprints); a device holding a fingerprint that others hold too has the finding on each slot
 * holding it. Pure.
 */
import type { Device } from './device';
import { type DeviceFinding, isAssessed, slotsOf } from './findings';
import type { PostureCheck } from './posture-checks';

export type HoldingKind = 'certificate' | 'key';

/** A held fingerprint: `c:<sha256>` (certificate) or `k:<sha256>` (public key). */
export type HoldingKey = string;

export const holdingKey = (kind: HoldingKind, fingerprint: string): HoldingKey =>
  `${kind === 'certificate' ? 'c' : 'k'}:${fingerprint}`;

export const holdingKindOf = (key: HoldingKey): HoldingKind => (key.startsWith('c:') ? 'certificate' : 'key');

export const SHARED_CHECKS: Record<HoldingKind, PostureCheck> = {
  certificate: 'shared-certificate',
  key: 'shared-key',
};

/**
 * Holders an item lists by id. Beyond it only the count grows (an item stays far below DynamoDB's
 * 400 KB): the other holder of a fingerprint is found from the list when the count crosses 1 ↔ 2.
 */
export const MAX_LISTED_HOLDERS = 1000;

/** One fingerprint's item: its holder count, the holders listed, and its version (0: no item). */
export interface FingerprintHolders {
  count: number;
  listed: string[];
  version: number;
}

export const NO_HOLDERS: FingerprintHolders = { count: 0, listed: [], version: 0 };

/** The fingerprints a device holds, each with the slots holding it (identity first). */
export function holdingsOf(device: Device): Map<HoldingKey, string[]> {
  const held = new Map<HoldingKey, string[]>();
  for (const [name, slot] of slotsOf(device)) {
    if (!isAssessed(device, slot) || !slot.crypto) continue;
    for (const key of [
      holdingKey('certificate', slot.crypto.sha256_fingerprint),
      holdingKey('key', slot.crypto.public_key_sha256),
    ])
      held.set(key, [...(held.get(key) ?? []), name]);
  }
  return held;
}

const HOLDINGS = Symbol('holdings');

/** The fingerprints a stored device is counted under (undefined: never registered). */
export const recordedHoldingsOf = (device: Device): HoldingKey[] | undefined =>
  (device as unknown as Record<symbol, HoldingKey[] | undefined>)[HOLDINGS];

/** Attaches the registered fingerprints invisibly (not part of the document's JSON). */
export function withHoldings<T extends Device>(device: T, keys: readonly HoldingKey[]): T {
  Object.defineProperty(device, HOLDINGS, { value: [...keys], enumerable: false, configurable: true, writable: true });
  return device;
}

export const sharedDetail = (key: HoldingKey): string =>
  holdingKindOf(key) === 'certificate'
    ? `certificate sha256 ${key.slice(2)} is active on another device too`
    : `public key sha256 ${key.slice(2)} is in use on another device too`;

/**
 * A device's findings with the shared checks of `judged` fingerprints set from `shared` (whether
 * another device holds it): the finding is on every slot holding the fingerprint. Findings of other
 * checks and of fingerprints not judged are kept; a finding still open keeps its `since`.
 */
export function withSharedFindings(
  findings: readonly DeviceFinding[],
  held: ReadonlyMap<HoldingKey, string[]>,
  judged: ReadonlyMap<HoldingKey, boolean>,
  now: string,
): DeviceFinding[] {
  const touched = (f: DeviceFinding) =>
    [...judged.keys()].some((key) => SHARED_CHECKS[holdingKindOf(key)] === f.check && held.get(key)?.includes(f.slot));
  const kept = findings.filter((f) => !touched(f));
  const added: DeviceFinding[] = [];
  for (const [key, shared] of judged) {
    if (!shared) continue;
    const check = SHARED_CHECKS[holdingKindOf(key)];
    for (const slot of held.get(key) ?? []) {
      const since = findings.find((f) => f.check === check && f.slot === slot)?.since ?? now;
      added.push({ check, slot, since, detail: sharedDetail(key) });
    }
  }
  return [...kept, ...added];
}

/** Which holder items a change moves: fingerprints newly held (joins) and no longer held (leaves). */
export function holdingChanges(
  recorded: readonly HoldingKey[],
  held: ReadonlyMap<HoldingKey, string[]>,
): { joins: HoldingKey[]; leaves: HoldingKey[] } {
  return {
    joins: [...held.keys()].filter((k) => !recorded.includes(k)),
    leaves: recorded.filter((k) => !held.has(k)),
  };
}

/**
 * The other holder whose shared finding a change opens or resolves: a join that makes the count 2
 * opens it on the one holder there was; a leave that makes it 1 resolves it on the one that stays.
 * Undefined when the count does not cross 1 ↔ 2 (or the list no longer names that holder).
 */
export function otherHolder(
  before: FingerprintHolders,
  self: string,
  move: 'join' | 'leave',
): { id: string; shared: boolean } | undefined {
  const others = before.listed.filter((id) => id !== self);
  if (move === 'join' && before.count === 1 && others.length === 1) return { id: others[0]!, shared: true };
  if (move === 'leave' && before.count === 2 && others.length === 1) return { id: others[0]!, shared: false };
  return undefined;
}
