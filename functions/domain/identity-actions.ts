/**
 * What the device shadow asks of the device (docs/events.md, Device shadow: identity actions), pure:
 * `desired.identity_actions.UPDATE_CERTIFICATE` = the boundary the identity crossed (epoch seconds) while
 * it is RENEWAL_PENDING or EXPIRING_SOON, so a device that reads its shadow renews by itself; nothing once
 * a renewal lands (ACTIVE) or the identity can no longer be renewed by the device (revoked,
 * decommissioned, none).
 */
import type { Device } from './device';
import type { RenewalWindows } from './status';

export const UPDATE_CERTIFICATE = 'UPDATE_CERTIFICATE';

/** The `identity_actions` object of the desired state; null removes it from the shadow. */
export type IdentityActions = { [UPDATE_CERTIFICATE]: number } | null;

/**
 * The identity actions the device should see: an object to write, null to clear, or 'keep' to leave the
 * shadow as it is (EXPIRED: the device may still renew with the request already there).
 */
export function identityActionsOf(
  device: Pick<Device, 'status' | 'identity'>,
  windows: RenewalWindows,
): IdentityActions | 'keep' {
  const identity = device.identity;
  if (device.status === 'DECOMMISSIONED' || !identity) return null;
  const expiresAt = identity.expiration_date === undefined ? undefined : Date.parse(identity.expiration_date);
  if (identity.status === 'EXPIRED') return 'keep';
  if (expiresAt === undefined || Number.isNaN(expiresAt)) return null;
  if (identity.status === 'RENEWAL_PENDING') return { [UPDATE_CERTIFICATE]: seconds(expiresAt - windows.preventiveMs) };
  if (identity.status === 'EXPIRING_SOON') return { [UPDATE_CERTIFICATE]: seconds(expiresAt - windows.criticalMs) };
  return null;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** A short text for the sync state: what the shadow last received ('' once cleared). */
export function identityActionsKey(actions: IdentityActions): string {
  return actions === null ? '' : `${UPDATE_CERTIFICATE}@${actions[UPDATE_CERTIFICATE]}`;
}
