/**
 * A device's lifecycle events: CREATED and every status and identity event (device STATUS-UPDATED
 * and DECOMMISSIONED; identity PROVISIONED, RENEWED, RE-PROVISIONED, REVOKED), without metadata
 * updates (SHADOW-UPDATED) or extra-slot events. The device document keeps only its 20 newest events
 * inline, where each metadata update pushes the oldest out; the Lamassu view needs the whole
 * lifecycle (Lamassu keeps every event and records none for a metadata update), so the device item
 * carries this list beside its document (docs/data-model.md), bounded in bytes.
 *
 * The list travels with a Device as a hidden (non-enumerable) property: never in the device's JSON,
 * so /v2 bodies, outbox records and events are unchanged.
 */
import type { Device, DeviceEvent } from './device';

/** The slot name of the identity slot (as in slots.ts, which imports this module's users). */
const IDENTITY = 'identity';

/**
 * Bytes the list may take as compact JSON. With the device document (at most ~60 KB: 16 KiB of
 * metadata, 50 tags, 5 slots of 20 inline events) the item stays far below DynamoDB's 400 KB.
 * About 150 bytes an event: some 850 events, e.g. CREATED and 280 renewal cycles of three events.
 */
export const LIFECYCLE_MAX_BYTES = 128 * 1024;

export type LifecycleEvent = DeviceEvent;

const LIFECYCLE = Symbol('lifecycle events');

const isLifecycleEvent = (e: DeviceEvent): boolean =>
  e.type !== 'SHADOW-UPDATED' && (e.slot === undefined || e.slot === IDENTITY);

/** The list a device was read or written with, if any (a device stored before it existed has none). */
export function storedLifecycleOf(device: Device): LifecycleEvent[] | undefined {
  return (device as unknown as Record<symbol, LifecycleEvent[] | undefined>)[LIFECYCLE];
}

/** Attaches the list to the device (hidden from JSON and from spreads); returns the same device. */
export function withLifecycle<T extends Device>(device: T, events: LifecycleEvent[]): T {
  Object.defineProperty(device, LIFECYCLE, { value: events, enumerable: false, configurable: true, writable: true });
  return device;
}

/**
 * What a device without the list can tell from its inline events: device events not recorded on a
 * slot, and the identity slot's own events (a status event mirrored there is the device's).
 */
export function inlineLifecycleOf(device: Device): LifecycleEvent[] {
  const onSlots = new Set(Object.values(device.slots).flatMap((s) => Object.keys(s.events)));
  const identity = device.identity?.events ?? {};
  const events: LifecycleEvent[] = [];
  for (const [timestamp, e] of Object.entries(device.events)) {
    if (e.type === 'SHADOW-UPDATED' || onSlots.has(timestamp)) continue;
    const fromIdentity = Object.hasOwn(identity, timestamp) && e.type !== 'STATUS-UPDATED';
    events.push({ timestamp, type: e.type, description: e.description, ...(fromIdentity ? { slot: IDENTITY } : {}) });
  }
  for (const [timestamp, e] of Object.entries(identity)) {
    if (Object.hasOwn(device.events, timestamp)) continue;
    // Older than the device's inline window: a status event there is the device's mirrored one.
    events.push({
      timestamp,
      type: e.type,
      description: e.description,
      ...(e.type === 'STATUS-UPDATED' ? {} : { slot: IDENTITY }),
    });
  }
  return events.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}

/** The device's lifecycle: the stored list, else what its inline events tell. */
export const lifecycleOf = (device: Device): LifecycleEvent[] => storedLifecycleOf(device) ?? inlineLifecycleOf(device);

const encoder = new TextEncoder();
const sizeOf = (e: LifecycleEvent) => encoder.encode(JSON.stringify(e)).length + 1;

/**
 * The list after a change: the lifecycle events of `added` appended, then bounded to
 * LIFECYCLE_MAX_BYTES by dropping the oldest events after the first (CREATED stays).
 */
export function appendLifecycle(previous: readonly LifecycleEvent[], added: readonly DeviceEvent[]): LifecycleEvent[] {
  const all = [
    ...previous,
    ...added.filter(isLifecycleEvent).map((e) => ({
      timestamp: e.timestamp,
      type: e.type,
      description: e.description,
      ...(e.slot ? { slot: e.slot } : {}),
    })),
  ];
  let bytes = 2 + all.reduce((n, e) => n + sizeOf(e), 0);
  if (bytes <= LIFECYCLE_MAX_BYTES || all.length < 2) return all;
  let drop = 1;
  while (bytes > LIFECYCLE_MAX_BYTES && drop < all.length - 1) bytes -= sizeOf(all[drop++]!);
  return [all[0]!, ...all.slice(drop)];
}
