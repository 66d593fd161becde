/**
 * The writes of one device change, as one TransactWriteItems over the device's own items only: the
 * device item (conditioned on its version, its index marker and, for a policy-dependent change, the
 * policy fence below), the index entries that differ, slot versions, events and the outbox. No item
 * shared with other devices: the counters follow from the stream (counter-applier.ts).
 *
 * Worst case (docs/api.md, Limits and edges: any valid change fits in 100 actions), with 50 tags and 10 indexed keys:
 * a PATCH replacing every tag and every indexed value writes 1 device + 50 tag entries + 10 metadata
 * entries + 1 event + 1 outbox = 63; a bind that moves the expiration (every entry's sort key) and the
 * status writes 1 + 62 entries + 2 versions (the new one carrying the certificate drill-down entry) + ≤ 3
 * events + ≤ 3 outbox = 71. docs/data-model.md keeps the full count.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DeviceChange } from '../../app/ports';
import type { Device } from '../../domain/device';
import { type DeviceFinding, openChecks, storedFindingsOf, withFindings } from '../../domain/findings';
import type { JobDeviceOutcome } from '../../domain/jobs';
import { type HoldingKey, recordedHoldingsOf, withHoldings } from '../../domain/shared-holdings';
import { type LifecycleEvent, storedLifecycleOf, withLifecycle } from '../../domain/lifecycle';
import { withJsonText } from '../../domain/json-text';
import { CERT_ENTRIES_KEY, HOLDERS_KEY, INVENTORY_KEY, PSEUDO_KEYS } from './counters';
import {
  certificateEntry,
  companionEntries,
  deviceEventKey,
  findingEntries,
  deviceKey,
  dueAttributes,
  entryPartition,
  entryPrefix,
  holderEntries,
  isAttachedEntry,
  jobOutcomeKey,
  shardOf,
  sharedHoldersKey,
  slotVersionKey,
  sortAttributes,
  type TableKey,
} from './keys';
import { outboxPuts } from './outbox';
import { versionItem } from './slot-version-item';
import { STATUS_ATTRIBUTE, TTL_ATTRIBUTE } from './schema';

type Item = Record<string, unknown>;

/** Attribute of the device item naming the indexed keys its entries and counters reflect. */
export const MARKER_ATTRIBUTE = 'mk';
const MARKER = Symbol('index marker');

/** The marker text of a key set: `,a,b,` (sorted), so a condition can compare it exactly. */
export const markerText = (keys: ReadonlySet<string>) => `,${[...keys].sort().join(',')},`;
export const markerKeys = (text: string): Set<string> => new Set(text.split(',').filter(Boolean));

/** The device of a stored item, remembering (invisibly to JSON) which indexed keys the item reflects. */
export function parseDeviceItem(item: Item): Device {
  // The stored text is the device's serialization: a list page joins it rather than serializing again.
  const device = withJsonText(JSON.parse(item.doc as string) as Device, item.doc as string);
  Object.defineProperty(device, MARKER, {
    value: typeof item[MARKER_ATTRIBUTE] === 'string' ? item[MARKER_ATTRIBUTE] : null,
    enumerable: false,
  });
  // An item written before the lifecycle list has none: lifecycleOf then reads the inline events.
  if (typeof item[LIFECYCLE_ATTRIBUTE] === 'string')
    withLifecycle(device, JSON.parse(item[LIFECYCLE_ATTRIBUTE]) as LifecycleEvent[]);
  // A device never assessed has neither: its first assessment (a change, or the walk) writes both.
  if (typeof item[FINDINGS_ATTRIBUTE] === 'string')
    withFindings(device, {
      policy_version: typeof item[POSTURE_VERSION_ATTRIBUTE] === 'number' ? item[POSTURE_VERSION_ATTRIBUTE] : -1,
      findings: JSON.parse(item[FINDINGS_ATTRIBUTE]) as DeviceFinding[],
    });
  if (typeof item[HOLDINGS_ATTRIBUTE] === 'string')
    withHoldings(device, JSON.parse(item[HOLDINGS_ATTRIBUTE]) as HoldingKey[]);
  return device;
}

/**
 * Attributes of the device item holding its open findings (JSON, domain/findings.ts) and the posture
 * policy version they were judged with, which is also the posture fence (like the policy fence below).
 */
export const FINDINGS_ATTRIBUTE = 'fd';
export const POSTURE_VERSION_ATTRIBUTE = 'ppv';

/** The findings attribute to write: the state the change attached, if any. */
const findingsAttribute = (device: Device): Item => {
  const state = storedFindingsOf(device);
  return state ? { [FINDINGS_ATTRIBUTE]: JSON.stringify(state.findings) } : {};
};

/**
 * Attribute of a device item written by an earlier release, naming the shared-fingerprint items it was
 * counted under (JSON, shared-holdings.ts): those items are no longer read (the holder index replaced
 * them); the device's next write or the holder index back-fill deletes them and the attribute.
 */
export const HOLDINGS_ATTRIBUTE = 'sh';

/** Deletes of the old shared-fingerprint items a stored device names (none for a device written since). */
export function legacyHolderDeletes(TableName: string, device: Device | undefined) {
  return ((device && recordedHoldingsOf(device)) ?? []).map((key) => ({
    Delete: { TableName, Key: sharedHoldersKey(key) },
  }));
}

/** The posture fence's condition, for a change that judged findings with posture policy `version`. */
export function postureFence(version: number) {
  return {
    condition: '(attribute_not_exists(#ppv) OR #ppv <= :ppv)',
    set: '#ppv = :ppv',
    names: { '#ppv': POSTURE_VERSION_ATTRIBUTE },
    values: { ':ppv': version },
  };
}

/** Attribute of the device item holding its lifecycle list (domain/lifecycle.ts) as JSON. */
export const LIFECYCLE_ATTRIBUTE = 'lc';

/** The lifecycle attribute to write: the list the change attached, if any. */
const lifecycleAttribute = (device: Device): Item => {
  const events = storedLifecycleOf(device);
  return events ? { [LIFECYCLE_ATTRIBUTE]: JSON.stringify(events) } : {};
};

/**
 * The marker a device was read with: a string, null for an item written before markers existed
 * (no indexed key, no forecast), undefined for a device not read from the table.
 */
const markerOf = (device: Device): string | null | undefined =>
  (device as unknown as Record<symbol, string | null | undefined>)[MARKER];

export interface WriteContext {
  TableName: string;
  listShards: number;
  statsShards: number;
  dueShards: number;
  outboxTtlSeconds: number;
  /** Seconds a device event item is kept (its `ttl` is its timestamp plus these); none when absent. */
  eventTtlSeconds?: number;
  /** Seconds a job's per-device outcome is kept (its `ttl` is its `at` plus these); none when absent. */
  jobOutcomeTtlSeconds?: number;
  /** Indexed metadata keys and FORECAST_KEY: what every change keeps up to date. */
  indexedKeys: ReadonlySet<string>;
}

const metadataKeysOf = (keys: ReadonlySet<string>) => [...keys].filter((k) => !PSEUDO_KEYS.includes(k));

/**
 * The inventory's entries under a key set: the drill-down entry on the identity's slot version with
 * CERT_ENTRIES_KEY; the two entry items written before it with INVENTORY_KEY alone (so a change deletes them).
 */
function inventoryEntries(device: Device, keys: ReadonlySet<string>) {
  if (keys.has(CERT_ENTRIES_KEY)) {
    const entry = certificateEntry(device);
    return { legacy: false, extra: entry ? [entry] : [] };
  }
  return { legacy: keys.has(INVENTORY_KEY), extra: [] };
}

/** The entry items of a device, by sort key (with HOLDERS_KEY, the holder index attributes on its slot versions). */
function entryItems(ctx: WriteContext, device: Device, keys: ReadonlySet<string>): Map<string, Item> {
  const shard = shardOf(device.id, ctx.listShards);
  const sorts = sortAttributes(device);
  const checks = openChecks(storedFindingsOf(device)?.findings ?? []);
  const inventory = inventoryEntries(device, keys);
  const items = new Map<string, Item>(
    [
      ...companionEntries(device, metadataKeysOf(keys), inventory.legacy),
      ...inventory.extra,
      ...findingEntries(device.id, checks),
    ].map((e) => [
      e.key.sk,
      { ...e.key, kind: 'entry', epk: entryPartition(e.prefix, shard), ...sorts, [STATUS_ATTRIBUTE]: device.status },
    ]),
  );
  // On the identity's version they join its drill-down entry: one item is written once in a transaction.
  if (keys.has(HOLDERS_KEY))
    for (const { key, hk, hs } of holderEntries(device)) items.set(key.sk, { ...(items.get(key.sk) ?? key), hk, hs });
  return items;
}

/** The attributes an entry attached to a slot version item sets: all but the item's key and kind. */
const attachedAttributes = (item: Item | undefined) =>
  Object.keys(item ?? {}).filter((name) => name !== 'pk' && name !== 'sk' && name !== 'kind');

/**
 * Puts of the entries that are new or differ, Deletes of the entries that are gone. An entry attached to
 * a slot version item is an Update of that item (SET or REMOVE of its index attributes), or, when the
 * change puts that version anyway (`versionPuts`, by sort key), part of the Put (added to its item here).
 */
function entryWrites(
  ctx: WriteContext,
  before: Map<string, Item>,
  after: Map<string, Item>,
  versionPuts: ReadonlyMap<string, Item> = new Map(),
) {
  const { TableName } = ctx;
  const writes: TransactItem[] = [];
  for (const [sk, item] of after) {
    const put = versionPuts.get(sk);
    if (put) {
      for (const name of attachedAttributes(item)) put[name] = item[name];
      continue;
    }
    const was = before.get(sk);
    if (JSON.stringify(was) === JSON.stringify(item)) continue;
    writes.push(isAttachedEntry(item) ? attachedUpdate(TableName, was, item) : { Put: { TableName, Item: item } });
  }
  for (const [sk, item] of before) {
    if (after.has(sk) || versionPuts.has(sk)) continue;
    const Key = { pk: item.pk, sk: item.sk } as TableKey;
    writes.push(isAttachedEntry(item) ? attachedUpdate(TableName, item, undefined) : { Delete: { TableName, Key } });
  }
  return writes;
}

/**
 * Sets an attached entry's attributes on its slot version item, which must exist, and removes those
 * it had before and no longer has (all of them when the entry is gone).
 */
function attachedUpdate(TableName: string, before: Item | undefined, after: Item | undefined): TransactItem {
  const item = (after ?? before)!;
  const set = attachedAttributes(after);
  const gone = attachedAttributes(before).filter((name) => !set.includes(name));
  const names = Object.fromEntries([...set, ...gone].map((name, i) => [`#a${i}`, name]));
  const values = Object.fromEntries(set.map((name, i) => [`:a${i}`, after![name]]));
  const clauses = [
    ...(set.length > 0 ? [`SET ${set.map((_, i) => `#a${i} = :a${i}`).join(', ')}`] : []),
    ...(gone.length > 0 ? [`REMOVE ${gone.map((_, i) => `#a${set.length + i}`).join(', ')}`] : []),
  ];
  return {
    Update: {
      TableName,
      Key: { pk: item.pk, sk: item.sk } as TableKey,
      UpdateExpression: clauses.join(' '),
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names,
      ...(set.length > 0 ? { ExpressionAttributeValues: values } : {}),
    },
  };
}

/** The condition that the device item still has the marker it was read with. */
function markerCondition(marker: string | null, values: Item): string {
  if (marker === null) return 'attribute_not_exists(#mk)';
  values[':mk'] = marker;
  return '#mk = :mk';
}

/**
 * The policy fence on the device item: the DMS (`pdms`) and policy version (`pv`) the device was
 * last evaluated with. A policy-dependent change sets them and commits only if the device was not
 * evaluated since with a newer policy of the same DMS; the policy job's walk stamps every device of
 * the DMS with the new version (docs/data-model.md, Policy race).
 */
export const POLICY_VERSION_ATTRIBUTE = 'pv';
export const POLICY_DMS_ATTRIBUTE = 'pdms';

/** The fence's condition and its values, for a change computed with `policy`. */
export function policyFence(policy: NonNullable<DeviceChange['policy']>) {
  return {
    condition: '(attribute_not_exists(#pv) OR #pdms <> :pdms OR #pv <= :pv)',
    set: '#pv = :pv, #pdms = :pdms',
    names: { '#pv': POLICY_VERSION_ATTRIBUTE, '#pdms': POLICY_DMS_ATTRIBUTE },
    values: { ':pv': policy.version, ':pdms': policy.dms },
  };
}

/** The device item write: a Put when registering, else an Update conditioned on version, marker and policy fence. */
function deviceWrite(ctx: WriteContext, change: DeviceChange, beforeMarker: string | null | undefined) {
  const { TableName, listShards, dueShards } = ctx;
  const { before, after, due, policy } = change;
  const doc = JSON.stringify(after);
  const index = {
    epk: entryPartition(entryPrefix({ kind: 'ALL' }), shardOf(after.id, listShards)),
    ...sortAttributes(after),
    [STATUS_ATTRIBUTE]: after.status,
    [MARKER_ATTRIBUTE]: markerText(ctx.indexedKeys),
  };
  const fence = policy ? policyFence(policy) : undefined;
  const posture = change.posture ? postureFence(change.posture.version) : undefined;
  if (!before) {
    const dueAttrs = typeof due === 'number' ? dueAttributes(after.id, due, dueShards) : {};
    return {
      Put: {
        TableName,
        Item: {
          ...deviceKey(after.id),
          kind: 'device',
          ...index,
          ...dueAttrs,
          ...(policy ? { [POLICY_VERSION_ATTRIBUTE]: policy.version, [POLICY_DMS_ATTRIBUTE]: policy.dms } : {}),
          ...(change.posture ? { [POSTURE_VERSION_ATTRIBUTE]: change.posture.version } : {}),
          version: after.version,
          doc,
          ...lifecycleAttribute(after),
          ...findingsAttribute(after),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }
  const values: Item = { ':doc': doc, ':next': after.version, ':v': before.version };
  const sets = ['#doc = :doc', '#version = :next'];
  const lifecycle = lifecycleAttribute(after)[LIFECYCLE_ATTRIBUTE];
  if (lifecycle !== undefined) {
    values[':lc'] = lifecycle;
    sets.push(`${LIFECYCLE_ATTRIBUTE} = :lc`);
  }
  const findings = findingsAttribute(after)[FINDINGS_ATTRIBUTE];
  if (findings !== undefined) {
    values[':fd'] = findings;
    sets.push(`${FINDINGS_ATTRIBUTE} = :fd`);
  }
  for (const [name, value] of Object.entries(index)) {
    const placeholder = name === MARKER_ATTRIBUTE ? ':mkAfter' : `:${name}`;
    values[placeholder] = value;
    sets.push(`${name === MARKER_ATTRIBUTE ? '#mk' : name} = ${placeholder}`);
  }
  const removes = recordedHoldingsOf(before) ? [HOLDINGS_ATTRIBUTE] : [];
  if (typeof due === 'number') {
    const attrs = dueAttributes(after.id, due, dueShards);
    values[':dp'] = attrs.due_pk;
    values[':ds'] = attrs.due_sk;
    sets.push('due_pk = :dp', 'due_sk = :ds');
  } else if (due === null) removes.push('due_pk', 'due_sk');
  const remove = removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : '';
  for (const f of [fence, posture]) {
    if (!f) continue;
    sets.push(f.set);
    Object.assign(values, f.values);
  }
  // A device not read from the table is taken as reflecting the current keys (no marker check).
  const condition =
    (beforeMarker === undefined ? '' : ` AND ${markerCondition(beforeMarker, values)}`) +
    (fence ? ` AND ${fence.condition}` : '') +
    (posture ? ` AND ${posture.condition}` : '');
  return {
    Update: {
      TableName,
      Key: deviceKey(after.id),
      UpdateExpression: `SET ${sets.join(', ')}${remove}`,
      ConditionExpression: `#version = :v${condition}`,
      ExpressionAttributeNames: {
        '#doc': 'doc',
        '#version': 'version',
        '#mk': MARKER_ATTRIBUTE,
        ...fence?.names,
        ...posture?.names,
      },
      ExpressionAttributeValues: values,
    },
  };
}

/** A job's outcome for a device, written only if the job has none for it yet (at most once per device and job). */
export function jobOutcomePut(TableName: string, outcome: JobDeviceOutcome, ttlSeconds?: number) {
  return {
    Put: {
      TableName,
      Item: {
        ...jobOutcomeKey(outcome.job_id, outcome.device_id),
        kind: 'job-outcome',
        doc: JSON.stringify(outcome),
        // Kept `ttlSeconds` after it was written (JOB_RETENTION_DAYS): a job's page is re-run within minutes
        // of a crash, long before, so the at-most-once check never misses an outcome it needs.
        ...(ttlSeconds === undefined
          ? {}
          : { [TTL_ATTRIBUTE]: Math.floor(Date.parse(outcome.at) / 1000) + ttlSeconds }),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Event history expires (TTL) `eventTtlSeconds` after the event (EVENT_RETENTION_DAYS). */
export const DEFAULT_EVENT_RETENTION_DAYS = 400;
const eventTtl = (ctx: WriteContext, timestamp: string) =>
  ctx.eventTtlSeconds === undefined
    ? {}
    : { [TTL_ATTRIBUTE]: Math.floor(Date.parse(timestamp) / 1000) + ctx.eventTtlSeconds };

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The transaction of one change. The device write comes first (its cancellation code is the version check). */
export function deviceTransaction(ctx: WriteContext, change: DeviceChange): { TransactItems: TransactItem[] } {
  const { TableName } = ctx;
  const { before, after } = change;
  const marker = before ? markerOf(before) : undefined;
  const beforeKeys = marker === undefined ? ctx.indexedKeys : marker === null ? new Set<string>() : markerKeys(marker);
  const afterEntries = entryItems(ctx, after, ctx.indexedKeys);
  const versionPuts = new Map(
    (change.versions ?? []).map((v) => [slotVersionKey(v.device_id, v.slot, v.version).sk, versionItem(v)]),
  );
  // An item written before slim entries (no marker) has its tag entries keyed by tag: drop them once.
  const legacyTags =
    before && marker === null ? before.tags.map((tag) => `ENTRY#TAG#${tag}`).filter((sk) => !afterEntries.has(sk)) : [];
  return {
    TransactItems: [
      deviceWrite(ctx, change, marker),
      // Second, so its cancellation code says the job had handled the device already.
      ...(change.jobOutcome ? [jobOutcomePut(TableName, change.jobOutcome, ctx.jobOutcomeTtlSeconds)] : []),
      // Entries of a legacy item are all rewritten in the slim form (same keys for status and DMS).
      ...entryWrites(
        ctx,
        before && marker !== null ? entryItems(ctx, before, beforeKeys) : new Map(),
        afterEntries,
        versionPuts,
      ),
      ...legacyTags.map((sk) => ({ Delete: { TableName, Key: { pk: deviceKey(after.id).pk, sk } } })),
      ...[...versionPuts.values()].map((Item) => ({ Put: { TableName, Item } })),
      ...change.events.map((event) => ({
        Put: {
          TableName,
          Item: {
            ...deviceEventKey(after.id, event.timestamp),
            kind: 'event',
            ...event,
            ...eventTtl(ctx, event.timestamp),
          },
        },
      })),
      ...outboxPuts(TableName, change.outbox, ctx.outboxTtlSeconds),
      ...legacyHolderDeletes(TableName, before),
    ],
  };
}

/**
 * Back-fill of one key for one stored device: its entry for `key` and the marker, conditioned on the
 * device still being at the version and marker it was read with. The version is not bumped: clients
 * see no change. The counters follow from the stream: the new marker adds the key's cells.
 * `completed` is the same device with derived fields it lacked (the inventory's slot profiles): its
 * document is written too, still at the same version, since nothing a client changed moved.
 */
export function reindexTransaction(ctx: WriteContext, device: Device, key: string, completed?: Device) {
  const { TableName } = ctx;
  const marker = markerOf(device) ?? null;
  const beforeKeys = marker === null ? new Set<string>() : markerKeys(marker);
  // The inventory brings its drill-down entry and its holder index attributes along (they need its
  // slot profiles): never the entry items written before it.
  const along = key === INVENTORY_KEY ? [CERT_ENTRIES_KEY, HOLDERS_KEY].filter((k) => ctx.indexedKeys.has(k)) : [];
  const afterKeys = new Set([...beforeKeys, key, ...along]);
  // Registered in the holder index: the shared-fingerprint items of an earlier release go (deleted by this walk).
  const legacy = afterKeys.has(HOLDERS_KEY) && recordedHoldingsOf(device) !== undefined;
  const values: Item = { ':v': device.version, ':next': markerText(afterKeys) };
  const condition = markerCondition(marker, values);
  if (completed) values[':doc'] = JSON.stringify(completed);
  return {
    TransactItems: [
      {
        Update: {
          TableName,
          Key: deviceKey(device.id),
          UpdateExpression:
            (completed ? 'SET #mk = :next, #doc = :doc' : 'SET #mk = :next') + (legacy ? ' REMOVE sh' : ''),
          ConditionExpression: `#version = :v AND ${condition}`,
          ExpressionAttributeNames: {
            '#version': 'version',
            '#mk': MARKER_ATTRIBUTE,
            ...(completed ? { '#doc': 'doc' } : {}),
          },
          ExpressionAttributeValues: values,
        },
      },
      ...entryWrites(ctx, entryItems(ctx, device, beforeKeys), entryItems(ctx, completed ?? device, afterKeys)),
      ...(legacy ? legacyHolderDeletes(TableName, device) : []),
    ],
  };
}

/** Whether the device was read from the table (it then carries the marker it was read with). */
export const isReadFromTable = (device: Device) => markerOf(device) !== undefined;

/** Whether a stored device already reflects `key`. */
export const isIndexedFor = (device: Device, key: string) => {
  const marker = markerOf(device);
  return marker !== undefined && marker !== null && markerKeys(marker).has(key);
};
