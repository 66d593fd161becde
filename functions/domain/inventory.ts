/**
 * The certificate inventory (docs/api.md, Certificate inventory): which slots of a device count, and
 * under which names. Pure: the counters and the drill-down entries of the DynamoDB adapter are both
 * derived from `inventoryValues`, so a count and its drill-down list always agree.
 */
import type { Device, Slot } from './device';
import { type FieldProblem, ValidationError } from './errors';
import { IDENTITY_SLOT, slotOf } from './slot-names';

/** What the inventory counts by: the crypto profile's key, signature, issuer and validity bucket. */
export const INVENTORY_DIMENSIONS = ['key', 'signature', 'issuer', 'validity'] as const;
export type InventoryDimension = (typeof INVENTORY_DIMENSIONS)[number];

/** Dimensions that are also indexed list filters (`identity.key[eq]`, `identity.issuer[eq]`). */
export const INDEXED_INVENTORY_DIMENSIONS = ['key', 'issuer'] as const satisfies readonly InventoryDimension[];

/**
 * Whether a slot's certificate is in service: it has a profile, is neither revoked nor expired, and its
 * device is not decommissioned. Only these count: the inventory answers what the fleet uses now.
 */
export const inService = (device: Device, slot: Slot | undefined): slot is Slot & Required<Pick<Slot, 'crypto'>> =>
  slot?.crypto !== undefined &&
  slot.status !== 'REVOKED' &&
  slot.status !== 'EXPIRED' &&
  device.status !== 'DECOMMISSIONED';

export interface InventoryValue {
  slot: string;
  dimension: InventoryDimension;
  value: string;
}

/** The value of one dimension of a slot's certificate in service, or undefined. */
export function inventoryValue(device: Device, slotName: string, dimension: InventoryDimension): string | undefined {
  const slot = slotOf(device, slotName);
  return inService(device, slot) ? slot.crypto[dimension] : undefined;
}

/** Every (slot, dimension, value) a device counts under: four per slot in service. */
export function inventoryValues(device: Device): InventoryValue[] {
  const out: InventoryValue[] = [];
  const slots: [string, Slot | undefined][] = [[IDENTITY_SLOT, device.identity], ...Object.entries(device.slots)];
  for (const [slot, state] of slots)
    if (inService(device, state))
      for (const dimension of INVENTORY_DIMENSIONS) out.push({ slot, dimension, value: state.crypto[dimension] });
  return out;
}

export interface InventoryQuery {
  by: InventoryDimension;
  slot: string;
}

const SLOT_NAME = /^[A-Za-z0-9:_.-]{1,128}$/;

/** `by` (required) and `slot` (default the identity) of `GET /v2/stats/certificates`. */
export function parseInventoryQuery(query: URLSearchParams): InventoryQuery {
  const problems: FieldProblem[] = [];
  const by = query.get('by') ?? '';
  if (!(INVENTORY_DIMENSIONS as readonly string[]).includes(by))
    problems.push({ field: 'by', problem: `must be one of ${INVENTORY_DIMENSIONS.join(', ')}` });
  const slot = query.get('slot') ?? IDENTITY_SLOT;
  if (!SLOT_NAME.test(slot))
    problems.push({ field: 'slot', problem: 'must be identity or a slot name (1-128 of A-Z a-z 0-9 : _ . -)' });
  if (problems.length > 0) throw new ValidationError('invalid certificate inventory parameters', problems);
  return { by: by as InventoryDimension, slot };
}

/** The answer: counts most common first (ties by name), and their sum. */
export function inventoryAnswer(query: InventoryQuery, counts: ReadonlyMap<string, number>) {
  const sorted = [...counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0));
  return {
    by: query.by,
    slot: query.slot,
    counts: Object.fromEntries(sorted),
    total: sorted.reduce((sum, [, n]) => sum + n, 0),
  };
}
