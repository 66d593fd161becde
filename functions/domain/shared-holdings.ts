/**
 * The fingerprints a device holds, for the `shared-certificate` and `shared-key` checks (docs/api.md,
 * Fleet posture): each in-service x509 slot with a kept profile holds its certificate's SHA-256 and
 * its public key's SHA-256. The holder index on the active slot versions names who else holds them
 * (docs/data-model.md, Shared fingerprints); a device holding a fingerprint that others hold too has
 * the finding on each slot holding it. Pure.
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

export const isSharedFinding = (f: DeviceFinding) => f.check === 'shared-certificate' || f.check === 'shared-key';

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

/**
 * The fingerprints a stored device was counted under by the holder items of an earlier release (its
 * `sh`; undefined: none): its next write, or the holder index back-fill, deletes those items.
 */
export const recordedHoldingsOf = (device: Device): HoldingKey[] | undefined =>
  (device as unknown as Record<symbol, HoldingKey[] | undefined>)[HOLDINGS];

/** Attaches the recorded fingerprints invisibly (not part of the document's JSON). */
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

/** One row of the holder index: an in-service slot holding a public key, with its certificate. */
export interface KeyHolder {
  device: string;
  slot: string;
  /** The certificate's SHA-256 (hex). */
  certificate: string;
}

/** The slots of a device holding `publicKey` (SHA-256, hex): what the holder index shows of it. */
export function holdersIn(device: Device, publicKey: string): KeyHolder[] {
  return slotsOf(device).flatMap(([slot, s]) =>
    isAssessed(device, s) && s.crypto?.public_key_sha256 === publicKey
      ? [{ device: device.id, slot, certificate: s.crypto.sha256_fingerprint }]
      : [],
  );
}

/** The public keys (SHA-256, hex) a device's in-service slots hold. */
export const heldKeysOf = (device: Device): Set<string> =>
  new Set([...holdingsOf(device).keys()].filter((k) => holdingKindOf(k) === 'key').map((k) => k.slice(2)));

/**
 * The shared checks of one public key's fingerprints for `device`, given every holder of the key:
 * the key is shared when another device holds it, each certificate under it when another device holds
 * that certificate. Only what the device holds under the key is judged.
 */
export function judgedUnder(
  device: Device,
  publicKey: string,
  holders: readonly KeyHolder[],
): Map<HoldingKey, boolean> {
  const others = holders.filter((h) => h.device !== device.id);
  const judged = new Map<HoldingKey, boolean>();
  for (const { certificate } of holdersIn(device, publicKey)) {
    judged.set(holdingKey('key', publicKey), others.length > 0);
    judged.set(
      holdingKey('certificate', certificate),
      others.some((h) => h.certificate === certificate),
    );
  }
  return judged;
}

/**
 * The shared findings a change carries without judging them (the reconciler on the stream judges):
 * those of a slot still holding the very fingerprint the finding names. A slot that changed its
 * certificate (or key) or left service drops them in the change itself; the reconciler opens them
 * again when the new one is shared too.
 */
export function carriedSharedFindings(after: Device, findings: readonly DeviceFinding[]): DeviceFinding[] {
  const held = holdingsOf(after);
  return findings.filter(
    (f) =>
      isSharedFinding(f) &&
      [...held].some(
        ([key, slots]) =>
          SHARED_CHECKS[holdingKindOf(key)] === f.check && slots.includes(f.slot) && f.detail === sharedDetail(key),
      ),
  );
}
