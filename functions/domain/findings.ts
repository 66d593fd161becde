/**
 * A device's open findings (docs/api.md, Fleet posture): what each slot's active certificate raises
 * under the posture policy (posture.ts), kept on the device item beside its document (like the
 * lifecycle list) so device bodies, lists and events keep their shape. Pure.
 */
import type { Device, Slot } from './device';
import { deviceSubject, type OutboxEvent } from './outbox';
import type { Finding } from './posture-rules';
import { type PostureCheck, postureCheckNames } from './posture-checks';
import { IDENTITY_SLOT } from './slots';

export interface DeviceFinding {
  check: PostureCheck;
  slot: string;
  /** When the finding opened (the change that first raised it). */
  since: string;
  detail: string;
}

/** The findings a device holds and the posture policy version they were judged with. */
export interface FindingsState {
  /** -1: judged with no policy known (never stored: a device item without it has not been assessed). */
  policy_version: number;
  findings: DeviceFinding[];
}

const FINDINGS = Symbol('findings');

/** The findings state attached to a device read from the table (or computed by a change), if any. */
export const storedFindingsOf = (device: Device): FindingsState | undefined =>
  (device as unknown as Record<symbol, FindingsState | undefined>)[FINDINGS];

/** Attaches the findings state invisibly (not part of the document's JSON). */
export function withFindings<T extends Device>(device: T, state: FindingsState): T {
  Object.defineProperty(device, FINDINGS, { value: state, enumerable: false, configurable: true, writable: true });
  return device;
}

/** The findings as served (`GET /v2/devices/{id}`): empty when none or not assessed yet. */
export const findingsOf = (device: Device): DeviceFinding[] => storedFindingsOf(device)?.findings ?? [];

/** The slots of a device, identity first. */
export const slotsOf = (device: Device): [string, Slot][] => [
  ...(device.identity ? ([[IDENTITY_SLOT, device.identity]] as [string, Slot][]) : []),
  ...Object.entries(device.slots),
];

/**
 * Whether a slot's active certificate is judged: an x509 slot still in use. A revoked or expired
 * certificate, or any slot of a decommissioned device, raises nothing (its findings resolve).
 */
export const isAssessed = (device: Device, slot: Slot): boolean =>
  device.status !== 'DECOMMISSIONED' && slot.type === 'x509' && slot.status !== 'REVOKED' && slot.status !== 'EXPIRED';

/** A slot's findings at `now`: a finding still open keeps the time it opened. */
export function slotFindings(
  previous: readonly DeviceFinding[],
  slot: string,
  raised: readonly Finding[],
  now: string,
): DeviceFinding[] {
  return raised.map(({ check, detail }) => ({
    check,
    slot,
    since: previous.find((f) => f.slot === slot && f.check === check)?.since ?? now,
    detail,
  }));
}

/** Findings in a stable order: by check (postureCheckNames), then slot. */
export const sortFindings = (findings: DeviceFinding[]): DeviceFinding[] =>
  findings.sort(
    (a, b) =>
      postureCheckNames.indexOf(a.check) - postureCheckNames.indexOf(b.check) ||
      (a.slot === b.slot ? 0 : a.slot === IDENTITY_SLOT ? -1 : b.slot === IDENTITY_SLOT ? 1 : a.slot < b.slot ? -1 : 1),
  );

const sameFinding = (a: DeviceFinding, b: DeviceFinding) => a.check === b.check && a.slot === b.slot;

/** `device.finding.open` for each finding `after` has and `before` lacked, `device.finding.resolve` for the reverse. */
export function findingEvents(
  deviceId: string,
  before: readonly DeviceFinding[],
  after: readonly DeviceFinding[],
  time: string,
  newId: () => string,
): OutboxEvent[] {
  const event = (type: 'device.finding.open' | 'device.finding.resolve', finding: DeviceFinding): OutboxEvent => ({
    id: newId(),
    type,
    subject: deviceSubject(deviceId),
    time,
    data: {
      device_id: deviceId,
      ...finding,
      ...(type === 'device.finding.resolve' ? { resolved_at: time } : {}),
    },
  });
  return [
    ...after.filter((f) => !before.some((b) => sameFinding(b, f))).map((f) => event('device.finding.open', f)),
    ...before.filter((f) => !after.some((a) => sameFinding(a, f))).map((f) => event('device.finding.resolve', f)),
  ];
}

/** The checks a device has open (one index entry per check, whatever its slots). */
export const openChecks = (findings: readonly DeviceFinding[]): PostureCheck[] => [
  ...new Set(findings.map((f) => f.check)),
];
