/**
 * The findings of one device change (docs/api.md, Fleet posture): each slot whose active certificate
 * changed (or whose findings were judged with an older posture policy) is judged again with the
 * policy, the others keep theirs. Runs inside the device's one write path (device-changes.ts), so a
 * finding opens or resolves in the same transaction as the change that causes it, with its events.
 */
import {
  cryptoProfileOf,
  type CryptoProfile,
  type IssuerCertificate,
  issuerCertificateOf,
  issuerOf,
} from '../domain/crypto-profile';
import { parseCertificate } from '../domain/certificate';
import type { PosturePolicy } from '../domain/posture';
import type { Device, Slot } from '../domain/device';
import {
  type DeviceFinding,
  type FindingsState,
  findingEvents,
  isAssessed,
  slotFindings,
  slotsOf,
  sortFindings,
  storedFindingsOf,
} from '../domain/findings';
import { isIotFinding } from '../domain/iot-findings';
import type { OutboxEvent } from '../domain/outbox';
import { DEFAULT_POSTURE_POLICY, findingsOf as raisedBy } from '../domain/posture-rules';
import type { SlotVersion } from '../domain/slots';
import type { SlotVersionStore, StoredPosturePolicy } from './ports';

export interface Assessment {
  state: FindingsState;
  /** Set when the change judged with the policy (it then carries the posture fence). */
  posture?: { version: number };
  outbox: OutboxEvent[];
}

export interface AssessmentDeps {
  /** The stored posture policy (undefined: the defaults, version 0). */
  policy: () => Promise<StoredPosturePolicy | undefined>;
  versions: Pick<SlotVersionStore, 'getSlotVersion'>;
  newId: () => string;
}

const issuerCache = new WeakMap<PosturePolicy, IssuerCertificate[]>();

/** The policy's issuer certificates as matched (parsed once per policy object; checked at PUT). */
export function issuersOf(policy: PosturePolicy): IssuerCertificate[] {
  let issuers = issuerCache.get(policy);
  if (!issuers) {
    issuers = (policy.issuer_certificates ?? []).map((pem) => issuerCertificateOf(parseCertificate(pem)));
    issuerCache.set(policy, issuers);
  }
  return issuers;
}

export const currentPosture = async (deps: Pick<AssessmentDeps, 'policy'>): Promise<StoredPosturePolicy> =>
  (await deps.policy()) ?? { policy: DEFAULT_POSTURE_POLICY, version: 0 };

/**
 * The profile of a slot's active certificate: the one the slot keeps (`crypto`, set at every PEM
 * bind); for a slot bound before slots kept it, from the stored version (the change's new ones, else
 * read). None for a serial bound alone (no PEM).
 */
async function profileOf(
  deps: AssessmentDeps,
  device: Device,
  name: string,
  slot: Slot,
  fresh: readonly SlotVersion[],
): Promise<CryptoProfile | undefined> {
  if (slot.crypto) return slot.crypto;
  const stored =
    fresh.find((v) => v.slot === name && v.version === slot.active_version) ??
    (await deps.versions.getSlotVersion(device.id, name, slot.active_version));
  if (!stored?.certificate) return undefined;
  try {
    return cryptoProfileOf(stored.certificate);
  } catch {
    // A DER the profile reader does not cover: nothing to judge (the bind itself was valid).
    return undefined;
  }
}

/**
 * The findings of `after` given `before` and the slot versions the change writes. `force` judges
 * every slot with the current policy (the re-evaluation walk); otherwise the policy is read only when
 * a slot's active certificate changed or the device was never assessed, and a change touching no
 * certificate keeps the findings as they are.
 */
export async function assess(
  deps: AssessmentDeps,
  before: Device | undefined,
  after: Device,
  fresh: readonly SlotVersion[],
  now: Date,
  { force = false, preloaded }: { force?: boolean; preloaded?: StoredPosturePolicy } = {},
): Promise<Assessment | undefined> {
  const previous = before ? storedFindingsOf(before) : undefined;
  // The IoT check is not the policy's: it opens and resolves apart (iot-findings.ts) and is carried as it is.
  const carried = previous?.findings.filter(isIotFinding) ?? [];
  const kept = previous?.findings.filter((f) => !isIotFinding(f)) ?? [];
  const beforeSlots = new Map(before ? slotsOf(before) : []);
  const slots = slotsOf(after).filter(([, slot]) => isAssessed(after, slot));
  // A slot whose active certificate is new (or newly judged: it was revoked, expired or absent before).
  const changed = slots.filter(([name, slot]) => {
    const was = beforeSlots.get(name);
    return !was || !isAssessed(before!, was) || was.active_version !== slot.active_version;
  });
  const gone = kept.some((f) => !slots.some(([name]) => name === f.slot));
  if (!force && previous && changed.length === 0 && !gone) return undefined;
  if (!force && !previous && slots.length === 0) return undefined;
  const posture = preloaded ?? (await currentPosture(deps));
  const time = now.toISOString();
  const findings: DeviceFinding[] = [];
  for (const [name, slot] of slots) {
    const reuse = !force && previous?.policy_version === posture.version && !changed.some(([n]) => n === name);
    if (reuse) {
      findings.push(...kept.filter((f) => f.slot === name));
      continue;
    }
    const profile = await profileOf(deps, after, name, slot, fresh);
    if (profile) {
      const issuer = issuerOf(profile, issuersOf(posture.policy));
      const raised = raisedBy(profile, posture.policy, issuer?.not_after, now.getTime());
      findings.push(...slotFindings(kept, name, raised, time));
    }
  }
  findings.push(...carried);
  sortFindings(findings);
  return {
    state: { policy_version: posture.version, findings },
    posture: { version: posture.version },
    outbox: findingEvents(after.id, previous?.findings ?? [], findings, time, deps.newId),
  };
}

/** Whether two finding lists hold the same findings (check, slot, detail). */
export const sameFindings = (a: readonly DeviceFinding[], b: readonly DeviceFinding[]): boolean =>
  a.length === b.length &&
  a.every((f) => b.some((g) => g.check === f.check && g.slot === f.slot && g.detail === f.detail));
