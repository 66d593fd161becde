/** Every key of the table is built here and nowhere else. */
import { createHash } from 'node:crypto';
import type { Device } from '../../domain/device';
import { isAssessed, slotsOf } from '../../domain/findings';
import { metadataText } from '../../domain/insights';
import { INDEXED_INVENTORY_DIMENSIONS, type InventoryDimension, inventoryValue } from '../../domain/inventory';
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
export const deviceEventKey = (id: string, timestamp: string): TableKey => ({
  pk: `DEVICE#${id}`,
  sk: `EVENT#${timestamp}`,
});
export const DEVICE_EVENT_PREFIX = 'EVENT#';
/** What the IoT sync last did for a device: in the device's partition, so a purge deletes it with the device. */
export const iotSyncStateKey = (id: string): TableKey => ({ pk: `DEVICE#${id}`, sk: 'IOT' });
export const outboxKey = (eventId: string): TableKey => ({ pk: `OUTBOX#${eventId}`, sk: 'OUTBOX' });
/**
 * A device's connectivity (presence events): in the device's partition, so a purge deletes it with the
 * device; it is also the device's entry in the `CONN#<connected>` partitions (the `connected` list filter).
 */
export const connectivityKey = (id: string): TableKey => ({ pk: `DEVICE#${id}`, sk: 'CONNECTIVITY' });
/** Devices by connectivity (`c_true`, `c_false`): one counter item per stats shard, from the connectivity items. */
export const connectivityStatsKey = (shard: number): TableKey => ({ pk: `CONNSTATS#${shard}`, sk: 'CONNSTATS' });
export const connectivityStatsAttribute = (connected: boolean) => `c_${connected}`;

/** Statistics counters: one item per scope and shard, so no single item takes a fleet's writes. */
export const statsScopeAll = 'ALL';
export const statsScopeDms = (dms: string) => `DMS#${dms}`;
export const statsKey = (scope: string, shard: number): TableKey => ({ pk: `STATS#${scope}#${shard}`, sk: 'STATS' });

/** An index entry of a device: a slim companion item (status, DMS, tag position, indexed metadata key). */
export interface DeviceEntry {
  key: TableKey;
  /** Entry partition prefix, completed by `#<shard>`. */
  prefix: string;
}

/** Values longer than this are keyed by their SHA-256 (key attributes are at most 1 KB as sort keys). */
const MAX_VALUE_KEY = 256;
/** The key form of a metadata value's JSON text. */
export const valueKey = (text: string) =>
  Buffer.byteLength(text) <= MAX_VALUE_KEY ? text : `#${createHash('sha256').update(text).digest('hex')}`;

/** The entry partition prefixes of an entry point (one per value of an `in`). */
export function entryPrefixes(entry: Exclude<EntryPoint, { kind: 'ID' }>): string[] {
  switch (entry.kind) {
    case 'ALL':
      return ['ALL'];
    case 'META':
      return entry.texts.map((text) => `META#${entry.key}=${valueKey(text)}`);
    case 'CERT':
      // One partition per pair with a value of the other dimension (certificateEntry below).
      return (entry.others ?? []).map((other) =>
        entry.dimension === 'key'
          ? certificatePairPrefix(entry.value, other)
          : certificatePairPrefix(other, entry.value),
      );
    default:
      return [`${entry.kind}#${entry.value}`];
  }
}

/** The single prefix of an entry point with one partition. */
export const entryPrefix = (entry: Exclude<EntryPoint, { kind: 'ID' | 'META' | 'CERT' }>) => entryPrefixes(entry)[0]!;

/**
 * Sort key of the drill-down entry of the identity certificate's key or issuer, as written before
 * the entry moved onto the slot version (certificateEntry): only deleted now, by a device's next change.
 */
export const certificateEntrySk = (dimension: InventoryDimension) => `ENTRY#CERT#identity.${dimension}`;

/**
 * The drill-down partition prefix of an identity certificate's key and issuer together. Key names
 * (`RSA-2048`, `EC-P256`, `Ed25519`) never contain `|`, so the pair splits at its first `|`.
 */
export const certificatePairPrefix = (key: string, issuer: string) =>
  `CERT#identity=${valueKey(key)}|${valueKey(issuer)}`;

/**
 * The drill-down entry of a device's identity certificate in service: not an item of its own but the
 * entry attributes on the identity's active slot version item, which every bind writes anyway, so it
 * costs a bind only its three entry index writes (docs/adr/0007-certificate-drill-down-on-the-slot-version.md).
 */
export function certificateEntry(device: Device): DeviceEntry | undefined {
  const key = inventoryValue(device, 'identity', 'key');
  const issuer = inventoryValue(device, 'identity', 'issuer');
  if (key === undefined || issuer === undefined || !device.identity) return undefined;
  return {
    key: slotVersionKey(device.id, 'identity', device.identity.active_version),
    prefix: certificatePairPrefix(key, issuer),
  };
}

/**
 * The inventory counter dimension of the identity's key and issuer together (`<key>|<issuer>`): not
 * a `by` of the API, only what tells a drill-down which pair partitions hold devices.
 */
export const PAIR_DIMENSION = 'pair';
export function certificatePair(device: Device): string | undefined {
  const key = inventoryValue(device, 'identity', 'key');
  const issuer = inventoryValue(device, 'identity', 'issuer');
  return key === undefined || issuer === undefined ? undefined : `${key}|${issuer}`;
}
/** The key and the issuer of a pair (key names never contain `|`). */
export function splitCertificatePair(pair: string): { key: string; issuer: string } {
  const at = pair.indexOf('|');
  return { key: pair.slice(0, at), issuer: pair.slice(at + 1) };
}

/** A SHA-256 in hex as the holder index keeps it: base64url (43 characters, not 64), so version items stay small. */
export const compactFingerprint = (hex: string) =>
  /^[0-9a-f]{64}$/i.test(hex) ? Buffer.from(hex, 'hex').toString('base64url') : hex;

/**
 * The holder index attributes (schema.ts HOLDER_INDEX) on the active version item of every slot the
 * shared checks judge (domain/findings.ts isAssessed, with a crypto profile).
 */
export function holderEntries(device: Device): { key: TableKey; hk: string; hs: string }[] {
  return slotsOf(device).flatMap(([name, slot]) =>
    isAssessed(device, slot) && slot.crypto
      ? [
          {
            key: slotVersionKey(device.id, name, slot.active_version),
            hk: compactFingerprint(slot.crypto.public_key_sha256),
            hs: `${compactFingerprint(slot.crypto.sha256_fingerprint)}#${device.id}#${name}`,
          },
        ]
      : [],
  );
}

/** A holder index sort key (`<certificate, base64url>#<device>#<slot>`) read back, fingerprint in hex. */
export function keyHolderOf(sort: string): { device: string; slot: string; certificate: string } {
  const first = sort.indexOf('#');
  const last = sort.lastIndexOf('#');
  return {
    certificate: Buffer.from(sort.slice(0, first), 'base64url').toString('hex'),
    device: sort.slice(first + 1, last),
    slot: sort.slice(last + 1),
  };
}

/** Whether an entry is attributes on a slot version item (certificateEntry) rather than an item of its own. */
export const isAttachedEntry = (key: { sk?: unknown }) => String(key.sk).startsWith('SLOT#');

export const entryPartition = (prefix: string, shard: number) => `${prefix}#${shard}`;

/** Tag entries are positional (`ENTRY#TAG#<index>`): replacing the tag at a position overwrites one item. */
export const tagEntrySk = (index: number) => `ENTRY#TAG#${String(index).padStart(2, '0')}`;

/**
 * The companion entries of a device (besides the device item, which is its ALL entry): status, DMS,
 * one per tag position, one per indexed metadata key among `metadataKeys` the device has and, with
 * `inventory`, the key and the issuer entries of its identity certificate in service as they were
 * written before certificateEntry (so that a change deletes them).
 */
export function companionEntries(
  device: Device,
  metadataKeys: readonly string[] = [],
  inventory = false,
): DeviceEntry[] {
  const pk = `DEVICE#${device.id}`;
  const entries: DeviceEntry[] = [
    { key: { pk, sk: 'ENTRY#STATUS' }, prefix: entryPrefix({ kind: 'STATUS', value: device.status }) },
    { key: { pk, sk: 'ENTRY#DMS' }, prefix: entryPrefix({ kind: 'DMS', value: device.dms_owner }) },
    ...device.tags.map((tag, i) => ({
      key: { pk, sk: tagEntrySk(i) },
      prefix: entryPrefix({ kind: 'TAG', value: tag }),
    })),
  ];
  for (const key of metadataKeys) {
    const text = metadataText(device, key);
    if (text !== undefined)
      entries.push({
        key: { pk, sk: `ENTRY#META#${key}` },
        prefix: entryPrefixes({ kind: 'META', key, texts: [text] })[0]!,
      });
  }
  if (inventory)
    for (const dimension of INDEXED_INVENTORY_DIMENSIONS) {
      const value = inventoryValue(device, 'identity', dimension);
      if (value !== undefined)
        entries.push({
          key: { pk, sk: certificateEntrySk(dimension) },
          prefix: `CERT#identity.${dimension}=${valueKey(value)}`,
        });
    }
  return entries;
}

/**
 * Finding entries: one per open check of a device (`ENTRY#FINDING#<check>`), in the sharded sparse
 * partitions `FINDING#<check>#<shard>`, so the devices of a check are read without a scan.
 */
export const findingPrefix = (check: string) => `FINDING#${check}`;
export const findingEntries = (id: string, checks: readonly string[]): DeviceEntry[] =>
  checks.map((check) => ({ key: { pk: `DEVICE#${id}`, sk: `ENTRY#FINDING#${check}` }, prefix: findingPrefix(check) }));
/** Open findings per check: one item per stats shard, one attribute `f_<check>` per check. */
export const findingStatsKey = (shard: number): TableKey => ({ pk: `FINDINGS#${shard}`, sk: 'FINDINGS' });
export const findingStatsAttribute = (check: string) => `f_${check}`;

/**
 * The shared-fingerprint items of an earlier release (`SHARED#c:<sha256>` certificate, `SHARED#k:<sha256>`
 * public key), no longer read since the holder index replaced them: only deleted (device-writes.ts).
 */
export const sharedHoldersKey = (key: string): TableKey => ({ pk: `SHARED#${key}`, sk: 'HOLDERS' });

/** The posture policy, its re-evaluation job and whether the first assessment of the fleet is done. */
export const POSTURE_PK = 'POSTURE';
export const posturePolicyKey = (): TableKey => ({ pk: POSTURE_PK, sk: 'POLICY' });
export const postureJobKey = (): TableKey => ({ pk: POSTURE_PK, sk: 'JOB' });
export const postureStateKey = (): TableKey => ({ pk: POSTURE_PK, sk: 'STATE' });

/** Counters of one indexed metadata key: one partition per shard, one item per value (its key form). */
export const metadataStatsPartition = (key: string, shard: number) => `MSTATS#${key}#${shard}`;
export const metadataStatsKey = (key: string, shard: number, text: string): TableKey => ({
  pk: metadataStatsPartition(key, shard),
  sk: valueKey(text),
});

/**
 * Certificate inventory counters: per slot, dimension and shard one partition, one item per value
 * (its key form; the item keeps the value in `v` and the count in `n`).
 */
export const inventoryStatsPartition = (slot: string, dimension: string, shard: number) =>
  `ISTATS#${slot}#${dimension}#${shard}`;
export const inventoryStatsKey = (slot: string, dimension: string, shard: number, value: string): TableKey => ({
  pk: inventoryStatsPartition(slot, dimension, shard),
  sk: valueKey(value),
});

/**
 * Ranked values of one indexed metadata key (the distribution's read): one unsharded item per value
 * (`V#<value key>`: its devices' status counts, summed from the value's shards) and the key's total
 * (`TOTAL`). A value with devices carries its rank in the `entry-by-id` index, partition
 * `MRANK#<key>`, so the most common values are the first entries of one Query.
 */
export const metadataRankPartition = (key: string) => `MRANK#${key}`;
export const metadataRankKey = (key: string, text: string): TableKey => ({
  pk: metadataRankPartition(key),
  sk: `V#${valueKey(text)}`,
});
export const metadataTotalKey = (key: string): TableKey => ({ pk: metadataRankPartition(key), sk: 'TOTAL' });
/** Digits of a rank's count part: a count up to 10¹² − 1 sorts right. */
const RANK_DIGITS = 12;
/** Sorts most devices first, then by value key: (10¹² − 1 − total) zero-padded, `#`, the value key. */
export const metadataRankSort = (total: number, text: string) =>
  `${String(10 ** RANK_DIGITS - 1 - total).padStart(RANK_DIGITS, '0')}#${valueKey(text)}`;
/** The indexed metadata key a value counter's partition (`MSTATS#<key>#<shard>`) belongs to. */
export const metadataKeyOfStatsPartition = (pk: string): string | undefined => /^MSTATS#(.+)#\d+$/.exec(pk)?.[1];

/**
 * Expiry forecast counters: per scope and shard, one item per expiration month (`YYYY-MM`) holding per-day attributes.
 */
export const forecastPartition = (scope: string, shard: number) => `FORECAST#${scope}#${shard}`;
export const forecastKey = (scope: string, shard: number, day: string): TableKey => ({
  pk: forecastPartition(scope, shard),
  sk: day.slice(0, 7),
});
/** Attribute of a forecast month item: `i<DD>` (identities) or `s<DD>` (extra slots) expiring that day. */
export const forecastAttribute = (kind: 'identity' | 'slots', day: string) =>
  `${kind === 'identity' ? 'i' : 's'}${day.slice(8, 10)}`;

/**
 * Index back-fill state: one item per indexed metadata key (and `@forecast`), `filling` with the
 * back-fill's progress until every existing device is indexed, then `ready`.
 */
export const INDEX_STATE_PK = 'INDEX_STATE';
export const indexStateKey = (key: string): TableKey => ({ pk: INDEX_STATE_PK, sk: `KEY#${key}` });

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
export const slotVersionKey = (id: string, slot: string, version: number): TableKey => ({
  pk: `DEVICE#${id}`,
  sk: `SLOT#${slot}#${String(version).padStart(6, '0')}`,
});

/**
 * The device, slot and version a slot-version key names (slot names never contain `#`); undefined for any other key.
 */
export function parseSlotVersionKey(key: {
  pk?: unknown;
  sk?: unknown;
}): { deviceId: string; slot: string; version: number } | undefined {
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

/** Processed marker of one stream record applied to the counters (kept past the stream's retention, then TTL). */
export const countedMarkerKey = (deviceId: string, sequenceNumber: string): TableKey => ({
  pk: `COUNTED#${deviceId}`,
  sk: sequenceNumber,
});
/** The counter applier's state: `through`, the commit time up to which the counters include every change. */
export const counterStateKey = (): TableKey => ({ pk: 'COUNTERS', sk: 'APPLIED' });

/** Pending re-evaluation jobs (a DMS policy changed): one small partition the sweeper reads. */
export const JOBS_PK = 'SWEEP_JOBS';
export const policyJobKey = (dms: string): TableKey => ({ pk: JOBS_PK, sk: `DMS#${dms}` });

/**
 * Remediation jobs: every job in one partition (few, listed newest first by their time-sortable id),
 * the unfinished ones marked in another, and each job's per-device outcomes in the job's own partition.
 */
export const REMEDIATION_JOBS_PK = 'REMEDIATION_JOBS';
export const remediationJobKey = (id: string): TableKey => ({ pk: REMEDIATION_JOBS_PK, sk: `JOB#${id}` });
export const UNFINISHED_JOBS_PK = 'REMEDIATION_JOBS_UNFINISHED';
export const unfinishedJobKey = (id: string): TableKey => ({ pk: UNFINISHED_JOBS_PK, sk: `JOB#${id}` });
export const jobOutcomeKey = (jobId: string, deviceId: string): TableKey => ({
  pk: `JOB#${jobId}`,
  sk: `DEVICE#${deviceId}`,
});
/** The current sweep run (epoch ms of its dispatch): tasks of an older run stop (docs/architecture.md). */
export const SWEEP_RUN_KEY: TableKey = { pk: 'SWEEP_RUN', sk: 'SWEEP_RUN' };

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
export const groupNameReservationKey = (nameKey: string): TableKey => ({
  pk: `GROUPNAME#${createHash('sha256').update(nameKey).digest('hex')}`,
  sk: 'GROUPNAME',
});

/** A server-side import: its record, one marker per piece done, one item per problem row, all in its partition. */
export const importKey = (id: string): TableKey => ({ pk: `IMPORT#${id}`, sk: 'IMPORT' });
export const importPieceKey = (id: string, piece: number): TableKey => ({
  pk: `IMPORT#${id}`,
  sk: `PIECE#${String(piece).padStart(9, '0')}`,
});
export const IMPORT_ROW_PREFIX = 'ROW#';
/** Problem rows sort by line (zero-padded). */
export const importRowKey = (id: string, line: number): TableKey => ({
  pk: `IMPORT#${id}`,
  sk: `${IMPORT_ROW_PREFIX}${String(line).padStart(12, '0')}`,
});
