/** Every key of the table is built here and nowhere else. */
import { createHash } from 'node:crypto';
import type { Device } from '../../domain/device';
import type { EntryPoint, SortField } from '../../domain/query';
import { INDEXES, type IndexDefinition } from './schema';

export interface TableKey {
  pk: string;
  sk: string;
}

/** FNV-1a: a stable, fast hash for write sharding (not security). */
export function shardOf(id: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export const deviceKey = (id: string): TableKey => ({ pk: `DEVICE#${id}`, sk: 'DEVICE' });
export const deviceEventKey = (id: string, timestamp: string): TableKey => ({ pk: `DEVICE#${id}`, sk: `EVENT#${timestamp}` });
export const DEVICE_EVENT_PREFIX = 'EVENT#';
export const outboxKey = (eventId: string): TableKey => ({ pk: `OUTBOX#${eventId}`, sk: 'OUTBOX' });

/** Statistics counters: one item per scope and shard, so no single item takes a fleet's writes. */
export const statsScopeAll = 'ALL';
export const statsScopeDms = (dms: string) => `DMS#${dms}`;
export const statsKey = (scope: string, shard: number): TableKey => ({ pk: `STATS#${scope}#${shard}`, sk: 'STATS' });

/** An index entry of a device: the device item itself (ALL) or a companion item (status, DMS, tag). */
export interface DeviceEntry {
  key: TableKey;
  /** Entry partition prefix, completed by `#<shard>`. */
  prefix: string;
}

export function entryPrefix(entry: Exclude<EntryPoint, { kind: 'ID' }>): string {
  return entry.kind === 'ALL' ? 'ALL' : `${entry.kind}#${entry.value}`;
}

export const entryPartition = (prefix: string, shard: number) => `${prefix}#${shard}`;

/** The companion entries of a device (besides the device item, which is its ALL entry). */
export function companionEntries(device: Device): DeviceEntry[] {
  return [
    { key: { pk: `DEVICE#${device.id}`, sk: 'ENTRY#STATUS' }, prefix: entryPrefix({ kind: 'STATUS', value: device.status }) },
    { key: { pk: `DEVICE#${device.id}`, sk: 'ENTRY#DMS' }, prefix: entryPrefix({ kind: 'DMS', value: device.dms_owner }) },
    ...device.tags.map((tag) => ({ key: { pk: `DEVICE#${device.id}`, sk: `ENTRY#TAG#${tag}` }, prefix: entryPrefix({ kind: 'TAG', value: tag }) })),
  ];
}

/** Devices without an identity sort after every date ('~' > digits), like NULLS LAST. */
export const NO_EXPIRATION = '~';

/** The sort-key values a device carries in every entry. */
export function sortAttributes(device: Device): Record<string, string> {
  return {
    [INDEXES.byCreated.sortKey]: `${device.creation_timestamp}#${device.id}`,
    [INDEXES.byId.sortKey]: device.id,
    [INDEXES.byExpiration.sortKey]: `${device.identity?.expiration_date ?? NO_EXPIRATION}#${device.id}`,
  };
}

export function indexFor(sortBy: SortField): IndexDefinition {
  switch (sortBy) {
    case 'creation_timestamp':
      return INDEXES.byCreated;
    case 'id':
      return INDEXES.byId;
    case 'identity.expiration_date':
      return INDEXES.byExpiration;
  }
}

/** A stored slot version: `SLOT#<slot>#<version, zero-padded so versions sort>`. */
export const slotVersionKey = (id: string, slot: string, version: number): TableKey => ({ pk: `DEVICE#${id}`, sk: `SLOT#${slot}#${String(version).padStart(6, '0')}` });

/** The device, slot and version a slot-version key names (slot names never contain `#`); undefined for any other key. */
export function parseSlotVersionKey(key: { pk?: unknown; sk?: unknown }): { deviceId: string; slot: string; version: number } | undefined {
  const device = typeof key.pk === 'string' ? /^DEVICE#(.+)$/.exec(key.pk) : null;
  const slot = typeof key.sk === 'string' ? /^SLOT#([^#]+)#(\d+)$/.exec(key.sk) : null;
  if (!device || !slot) return undefined;
  return { deviceId: device[1]!, slot: slot[1]!, version: Number(slot[2]) };
}

/** Due-index attributes of a device with a next status boundary at `at` (epoch ms). */
export function dueAttributes(id: string, at: number, shards: number): { due_pk: string; due_sk: string } {
  return { due_pk: duePartition(shardOf(id, shards)), due_sk: `${new Date(at).toISOString()}#${id}` };
}
export const duePartition = (shard: number) => `DUE#${shard}`;
/** Upper bound of due sort keys at `at`: every boundary ≤ at sorts before it ('~' > any id character). */
export const dueUpTo = (at: number) => `${new Date(at).toISOString()}#~`;

/** Renewal policies of DMSs: one small partition, listed with a Query. */
export const POLICIES_PK = 'DMS_POLICIES';
export const policyKey = (dms: string): TableKey => ({ pk: POLICIES_PK, sk: `DMS#${dms}` });

/** Pending re-evaluation jobs (a DMS policy changed): one small partition the sweeper reads. */
export const JOBS_PK = 'SWEEP_JOBS';
export const policyJobKey = (dms: string): TableKey => ({ pk: JOBS_PK, sk: `DMS#${dms}` });

/**
 * Device groups: one small partition (`GROUPS`) holds every group, so the group list and the
 * structural checks are Queries, never Scans. `HIERARCHY` is the version every structural change
 * bumps. A name reservation per group (`GROUPNAME#<sha-256 of the name key>`) makes names unique
 * atomically; hashing bounds the key size whatever the name's normalised length.
 */
export const GROUPS_PK = 'GROUPS';
export const GROUP_SK_PREFIX = 'GROUP#';
export const groupKey = (id: string): TableKey => ({ pk: GROUPS_PK, sk: `${GROUP_SK_PREFIX}${id}` });
export const groupHierarchyKey = (): TableKey => ({ pk: GROUPS_PK, sk: 'HIERARCHY' });
export const groupNameReservationKey = (nameKey: string): TableKey => ({ pk: `GROUPNAME#${createHash('sha256').update(nameKey).digest('hex')}`, sk: 'GROUPNAME' });
