/**
 * The status rules (docs/api.md, Status rules), pure: for a slot with certificate not_after = E, preventive delta P,
 * critical delta C, at time now: REVOKED if revoked; else EXPIRED if now ≥ E; else EXPIRING_SOON if
 * now ≥ E − C; else RENEWAL_PENDING if now ≥ E − P; else ACTIVE.
 */
import type { Device, DeviceStatus, Slot, SlotStatus } from './device';
import { parseDuration } from './duration';

/** A renewal policy in milliseconds; `criticalMs < preventiveMs`. */
export interface RenewalWindows {
  preventiveMs: number;
  criticalMs: number;
}

export interface RenewalSettings {
  preventive_delta: string;
  critical_delta: string;
}

export const DEFAULT_RENEWAL: RenewalSettings = { preventive_delta: '60d', critical_delta: '14d' };

/** Converts validated settings to windows. Throws on invalid settings: validate at the edge first. */
export function windowsOf(settings: RenewalSettings): RenewalWindows {
  const preventiveMs = parseDuration(settings.preventive_delta);
  const criticalMs = parseDuration(settings.critical_delta);
  if (preventiveMs === undefined || criticalMs === undefined || criticalMs >= preventiveMs)
    throw new RangeError(`invalid renewal settings ${JSON.stringify(settings)}`);
  return { preventiveMs, criticalMs };
}

/** What the status of a slot depends on. */
export interface SlotClock {
  revoked: boolean;
  /** not_after of the active version in epoch ms; undefined for secrets that never expire. */
  expiresAt?: number;
}

export function slotStatusAt(slot: SlotClock, policy: RenewalWindows, now: number): SlotStatus {
  if (slot.revoked) return 'REVOKED';
  if (slot.expiresAt === undefined) return 'ACTIVE';
  const e = slot.expiresAt;
  if (now >= e) return 'EXPIRED';
  if (now >= e - policy.criticalMs) return 'EXPIRING_SOON';
  if (now >= e - policy.preventiveMs) return 'RENEWAL_PENDING';
  return 'ACTIVE';
}

/** The first instant after `now` at which slotStatusAt changes, or undefined when it never will. */
export function nextSlotChange(slot: SlotClock, policy: RenewalWindows, now: number): number | undefined {
  if (slot.revoked || slot.expiresAt === undefined) return undefined;
  const e = slot.expiresAt;
  return [e - policy.preventiveMs, e - policy.criticalMs, e].find((boundary) => boundary > now);
}

export function clockOf(slot: Pick<Slot, 'status' | 'expiration_date'>): SlotClock {
  return {
    revoked: slot.status === 'REVOKED',
    expiresAt: slot.expiration_date === undefined ? undefined : Date.parse(slot.expiration_date),
  };
}

/** DECOMMISSIONED once decommissioned, NO_IDENTITY without identity, else the identity's status. */
export function deviceStatusOf(device: Pick<Device, 'status' | 'identity'>): DeviceStatus {
  if (device.status === 'DECOMMISSIONED') return 'DECOMMISSIONED';
  return device.identity ? device.identity.status : 'NO_IDENTITY';
}

/** The next instant any slot of the device changes status; undefined when none will (or decommissioned). */
export function nextDeviceChange(
  device: Pick<Device, 'status' | 'identity' | 'slots'>,
  policy: RenewalWindows,
  now: number,
): number | undefined {
  if (device.status === 'DECOMMISSIONED') return undefined;
  const slots = [device.identity, ...Object.values(device.slots)].filter((s): s is Slot => s !== undefined);
  const changes = slots.map((s) => nextSlotChange(clockOf(s), policy, now)).filter((t): t is number => t !== undefined);
  return changes.length ? Math.min(...changes) : undefined;
}
