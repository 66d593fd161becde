/** The device resource (docs/api.md, Resources) and the pure rules that build and change it. */
import type { SlotCrypto } from './crypto-profile';

export const DEVICE_STATUSES = [
  'NO_IDENTITY',
  'ACTIVE',
  'RENEWAL_PENDING',
  'EXPIRING_SOON',
  'EXPIRED',
  'REVOKED',
  'DECOMMISSIONED',
] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export const SLOT_STATUSES = ['ACTIVE', 'RENEWAL_PENDING', 'EXPIRING_SOON', 'EXPIRED', 'REVOKED'] as const;
export type SlotStatus = (typeof SLOT_STATUSES)[number];

export const SLOT_TYPES = ['x509', 'SSH_KEY', 'TOKEN', 'OTHER'] as const;
export type SlotType = (typeof SLOT_TYPES)[number];

/** Device id and group id rule: 1–128 of [A-Za-z0-9:_.-]. */
export const ID_PATTERN = /^[A-Za-z0-9:_.-]{1,128}$/;

/** How many events the device document keeps inline; the full history is its own collection. */
export const INLINE_EVENT_LIMIT = 20;

export const DEVICE_EVENT_TYPES = [
  'CREATED',
  'SHADOW-UPDATED',
  'STATUS-UPDATED',
  'PROVISIONED',
  'RENEWED',
  'RE-PROVISIONED',
  'REVOKED',
  'DECOMMISSIONED',
] as const;
export type DeviceEventType = (typeof DEVICE_EVENT_TYPES)[number];

export interface InlineEvent {
  type: DeviceEventType;
  description: string;
}

export interface DeviceEvent extends InlineEvent {
  timestamp: string;
  slot?: string;
}

export interface Slot {
  status: SlotStatus;
  active_version: number;
  type: SlotType;
  secrets: Record<string, string>;
  expiration_date?: string;
  events: Record<string, InlineEvent>;
  /** The active certificate's crypto profile (x509 bound with its PEM only; absent for a serial bound alone). */
  crypto?: SlotCrypto;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface Device {
  id: string;
  tags: string[];
  status: DeviceStatus;
  icon: string;
  icon_color: string;
  creation_timestamp: string;
  metadata: Record<string, JsonValue>;
  dms_owner: string;
  identity?: Slot;
  slots: Record<string, Slot>;
  events: Record<string, InlineEvent>;
  version: number;
}

/** The fields a PATCH may change (docs/api.md, Endpoints). */
export interface DeviceShadow {
  tags: string[];
  metadata: Record<string, JsonValue>;
  icon: string;
  icon_color: string;
}

export interface NewDeviceInput {
  id: string;
  dms_id: string;
  tags?: string[];
  metadata?: Record<string, JsonValue>;
  icon?: string;
  icon_color?: string;
}

const DEFAULT_ICON = 'CgSmartphoneChip';
const DEFAULT_ICON_COLOR = '#25ee32';

/** Timestamps are stored with millisecond precision: fixed width, so they sort as strings. */
export function isoTimestamp(at: Date): string {
  return at.toISOString();
}

/**
 * Returns the event timestamps for `count` events recorded at `now`, each distinct and later than
 * every timestamp the device already holds (event maps are keyed by timestamp).
 */
export function nextEventTimestamps(device: Pick<Device, 'events'> | undefined, now: Date, count: number): string[] {
  let at = now.getTime();
  const newest = device ? Object.keys(device.events).sort().at(-1) : undefined;
  if (newest !== undefined) at = Math.max(at, Date.parse(newest) + 1);
  return Array.from({ length: count }, (_, i) => new Date(at + i).toISOString());
}

/** Adds events to an inline event map and keeps only the newest INLINE_EVENT_LIMIT. */
export function withInlineEvents(
  events: Record<string, InlineEvent>,
  added: DeviceEvent[],
): Record<string, InlineEvent> {
  const merged: Record<string, InlineEvent> = { ...events };
  for (const e of added) merged[e.timestamp] = { type: e.type, description: e.description };
  const keep = Object.keys(merged).sort().slice(-INLINE_EVENT_LIMIT);
  return Object.fromEntries(keep.map((k) => [k, merged[k]!]));
}

export function newDevice(input: NewDeviceInput, now: Date): { device: Device; event: DeviceEvent } {
  const [timestamp] = nextEventTimestamps(undefined, now, 1) as [string];
  const event: DeviceEvent = { timestamp, type: 'CREATED', description: 'Device created' };
  const device: Device = {
    id: input.id,
    tags: dedupe(input.tags ?? []),
    status: 'NO_IDENTITY',
    icon: input.icon ?? DEFAULT_ICON,
    icon_color: input.icon_color ?? DEFAULT_ICON_COLOR,
    creation_timestamp: timestamp,
    metadata: input.metadata ?? {},
    dms_owner: input.dms_id,
    slots: {},
    events: withInlineEvents({}, [event]),
    version: 1,
  };
  return { device, event };
}

export function shadowOf(device: Device): DeviceShadow {
  return { tags: device.tags, metadata: device.metadata, icon: device.icon, icon_color: device.icon_color };
}

function dedupe<T>(values: T[]): T[] {
  return [...new Set(values)];
}
