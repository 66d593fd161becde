/**
 * Slot names and the lookup by name, apart from the slot rules so that modules the dashboard imports
 * (filters, inventory) do not pull in the certificate parsing those rules need (node:crypto).
 */
import type { Device, Slot } from './device';

/** The slot name that addresses the identity slot in version routes. */
export const IDENTITY_SLOT = 'identity';

/** The slot by name; own slots only (`toString` is a slot name like any other). */
export const slotOf = (device: Device, name: string): Slot | undefined =>
  name === IDENTITY_SLOT ? device.identity : Object.hasOwn(device.slots, name) ? device.slots[name] : undefined;
