/**
 * DeviceRepository on the single table: reads, and the composition of the parts that each have one
 * reason to change: device-writes.ts (the transaction of a change), list-cursor.ts (reading entry
 * points), counters.ts (statistics, metadata and forecast counters), index-backfill.ts (indexed keys).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DeviceRepository, DeviceStats } from '../../app/ports';
import type { Device, DeviceEvent } from '../../domain/device';
import type { SlotVersion } from '../../domain/slots';
import {
  DeviceAlreadyExistsError,
  IndexNotReadyError,
  InvalidBookmarkError,
  PolicyMovedError,
  QueryTooBroadError,
  VersionConflictError,
} from '../../domain/errors';
import { type Filter, matchesAll } from '../../domain/filters';
import {
  chooseEntryPoint,
  DEFAULT_LIST_BYTE_BUDGET,
  DEFAULT_REQUEST_TIME_BUDGET_MS,
  DEFAULT_STATS_READ_BYTE_BUDGET,
  type EntryPoint,
  indexedMetadataFilter,
  type SortField,
} from '../../domain/query';
import { type BookmarkCodec } from './bookmark';
import { DEFAULT_EVENT_RETENTION_DAYS } from './device-writes';
import { counterReader, emptyDistribution, FORECAST_KEY, totalOf } from './counters';
import { parseDeviceItem, policyFence, versionItem, type WriteContext, deviceTransaction } from './device-writes';
import { indexState } from './index-backfill';
import {
  DEVICE_EVENT_PREFIX,
  deviceEventKey,
  deviceKey,
  dueAttributes,
  duePartition,
  dueUpTo,
  slotVersionKey,
  parseSlotVersionKey,
  entryPartition,
  entryPrefix,
  entryPrefixes,
  indexFor,
  statsScopeAll,
  statsScopeDms,
} from './keys';
import { idOfEntry, listEntry, tableReader, visitEntry } from './list-cursor';
import { OUTBOX_TTL_SECONDS } from './outbox';
import { DUE_INDEX, INDEXES, SERIAL_INDEX } from './schema';
import { cancellationCodes, transactWrite } from './transact';

export { emptyDistribution } from './counters';

export interface DeviceRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Write shards of every entry partition (all devices, a status, a DMS, a tag, a metadata value). */
  listShards: number;
  /** Write shards of each statistics counter scope. */
  statsShards: number;
  /** Write shards of the due index. */
  dueShards?: number;
  bookmarks: BookmarkCodec;
  /** Items a list request may read before it returns a partial page with a bookmark. */
  readBudget?: number;
  /** Items a statistics request may read before it answers 422 QUERY_TOO_BROAD. */
  statsReadBudget?: number;
  /** Serialized bytes of devices one list page may hold (LIST_BYTE_BUDGET). */
  listByteBudget?: number;
  /** Bytes of devices a statistics request may read before it answers 422 QUERY_TOO_BROAD (STATS_READ_BYTE_BUDGET). */
  statsReadByteBudget?: number;
  /** Milliseconds a statistics request may read before it answers 422 QUERY_TOO_BROAD (REQUEST_TIME_BUDGET_MS). */
  timeBudgetMs?: number;
  now?: () => number;
  /** Seconds an outbox record is kept before TTL deletes it (the stream has it within seconds). */
  outboxTtlSeconds?: number;
  /** Metadata keys with entries and counters (INDEXED_METADATA_KEYS, ≤ 10 dotted paths). */
  indexedMetadataKeys?: readonly string[];
  /** Days a device event item is kept before TTL deletes it (EVENT_RETENTION_DAYS, default 400). */
  eventRetentionDays?: number;
}

type Item = Record<string, unknown>;

/** Shape of a list position per sort order: a forged bookmark position is a 400, never a key. */
const POSITION: Record<SortField, RegExp> = {
  creation_timestamp: /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z#[A-Za-z0-9:_.-]{1,128})?$/,
  id: /^([A-Za-z0-9:_.-]{1,128})?$/,
  'identity.expiration_date': /^((\d{4}-\d{2}-\d{2}T[\d:.]+Z|~)#[A-Za-z0-9:_.-]{1,128})?$/,
};

/** The filter a statistics request should index to become cheap: the first one no index serves. */
function filterToIndex(filters: readonly Filter[]): string {
  const f = filters.find((x) => x.kind === 'metadata') ?? filters.find((x) => x.kind !== 'status') ?? filters[0];
  return f ? f.field : '(none)';
}

/** Whether the entry point (plus status, which the index carries) decides every filter by itself. */
function entryDecides(
  entry: Exclude<EntryPoint, { kind: 'ID' }>,
  filters: readonly Filter[],
  indexedKeys: readonly string[],
): boolean {
  return filters.every((f) => {
    if (f.kind === 'status') return true;
    if (entry.kind === 'TAG') return f.kind === 'tags' && f.op === 'ct' && f.value === entry.value;
    if (entry.kind === 'DMS')
      return f.kind === 'string' && f.field === 'dms_owner' && f.op === 'eq' && f.values[0] === entry.value;
    if (entry.kind === 'META')
      return (
        indexedMetadataFilter([f], indexedKeys)?.key === entry.key &&
        filters.filter((x) => x.kind === 'metadata').length === 1
      );
    return false;
  });
}

export function deviceRepository(options: DeviceRepositoryOptions): DeviceRepository & { readonly itemsRead: number } {
  const {
    client,
    tableName: TableName,
    listShards,
    statsShards,
    dueShards = 4,
    bookmarks,
    readBudget = 2000,
    statsReadBudget = 10000,
    listByteBudget = DEFAULT_LIST_BYTE_BUDGET,
    statsReadByteBudget = DEFAULT_STATS_READ_BYTE_BUDGET,
    timeBudgetMs = DEFAULT_REQUEST_TIME_BUDGET_MS,
    now = Date.now,
    outboxTtlSeconds = OUTBOX_TTL_SECONDS,
    indexedMetadataKeys = [],
    eventRetentionDays = DEFAULT_EVENT_RETENTION_DAYS,
  } = options;
  const ctx: WriteContext = {
    TableName,
    listShards,
    statsShards,
    dueShards,
    outboxTtlSeconds,
    eventTtlSeconds: eventRetentionDays * 86_400,
    indexedKeys: new Set([...indexedMetadataKeys, FORECAST_KEY]),
  };
  const reader = tableReader(client, TableName);
  let counterItems = 0;
  const counters = counterReader(client, TableName, statsShards, (n) => (counterItems += n));
  const indexes = indexState(client, reader, ctx);
  const query = reader.query;
  let directReads = 0;

  /** Hydrates index items into devices (strongly consistent: the sweeper acts on them). */
  async function hydrate(items: Item[]): Promise<Device[]> {
    const docs = await reader.devices(items.map(idOfEntry), true);
    return items.map((item) => docs.get(idOfEntry(item))).filter((d): d is Device => d !== undefined);
  }

  /**
   * The back-filled keys; read only when a filter names an indexed key (a Query of the small state partition, cached).
   */
  async function readyMetadataKeys(filters?: readonly Filter[]): Promise<string[]> {
    if (indexedMetadataKeys.length === 0) return [];
    if (filters && !indexedMetadataFilter(filters, indexedMetadataKeys)) return [];
    const ready = await indexes.ready();
    return indexedMetadataKeys.filter((k) => ready.has(k));
  }

  /** Statistics read from the devices (or their entries) themselves: as of the read. */
  const stats = (count: (add: (status: string) => void) => Promise<void>): Promise<DeviceStats> => {
    const distribution = emptyDistribution();
    const consistent_as_of = new Date(now()).toISOString();
    return count((status) => (distribution[status as keyof typeof distribution] += 1)).then(() => ({
      total: totalOf(distribution),
      status_distribution: distribution,
      consistent_as_of,
    }));
  };

  /**
   * Why a conditional device write failed: a device still at the version read failed the policy
   * fence (a newer policy evaluated it meanwhile: recompute, never the client's 412); else the
   * version (or the marker) moved.
   */
  async function lostRace(id: string, version: number, policy: unknown, cause: unknown): Promise<Error> {
    if (policy) {
      const out = await client.send(
        new GetCommand({
          TableName,
          Key: deviceKey(id),
          ConsistentRead: true,
          ProjectionExpression: '#v',
          ExpressionAttributeNames: { '#v': 'version' },
        }),
      );
      if (out.Item?.version === version) return new PolicyMovedError(id, { cause });
    }
    return new VersionConflictError(id, { cause });
  }

  return {
    get itemsRead() {
      return reader.itemsRead + counterItems + directReads;
    },
    dueShards,
    listShards,
    indexedMetadataKeys,

    async getSlotVersion(id, slot, version) {
      const out = await client.send(
        new GetCommand({ TableName, Key: slotVersionKey(id, slot, version), ConsistentRead: true }),
      );
      if (out.Item) directReads++;
      return out.Item ? (JSON.parse(out.Item.doc as string) as SlotVersion) : undefined;
    },

    async findSlotVersionsBySerial(serial) {
      const found = [];
      let startKey: Item | undefined;
      do {
        const out = await query({
          IndexName: SERIAL_INDEX.name,
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': SERIAL_INDEX.partitionKey },
          ExpressionAttributeValues: { ':s': serial },
          ExclusiveStartKey: startKey,
        });
        for (const item of out.Items ?? []) {
          const ref = parseSlotVersionKey(item);
          if (ref) found.push(ref);
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return found;
    },

    async saveSlotVersion(version, previous) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: versionItem(version),
            // The whole stored document as the version: any change since it was read is a conflict.
            ConditionExpression: '#doc = :previous',
            ExpressionAttributeNames: { '#doc': 'doc' },
            ExpressionAttributeValues: { ':previous': JSON.stringify(previous) },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new VersionConflictError(`${version.device_id}/${version.slot}/${version.version}`, { cause: error });
        throw error;
      }
    },

    async dueDevices(shard, now, limit, after) {
      const out = await query({
        IndexName: DUE_INDEX.name,
        KeyConditionExpression:
          after === undefined ? '#p = :p AND #s <= :upTo' : '#p = :p AND #s BETWEEN :after AND :upTo',
        ExpressionAttributeNames: { '#p': DUE_INDEX.partitionKey, '#s': DUE_INDEX.sortKey },
        // BETWEEN is inclusive: appending a character past every id makes `after` itself excluded.
        ExpressionAttributeValues: {
          ':p': duePartition(shard),
          ':upTo': dueUpTo(now),
          ...(after === undefined ? {} : { ':after': `${after}\u0000` }),
        },
        Limit: limit,
      });
      const items = out.Items ?? [];
      const first = items[0]?.[DUE_INDEX.sortKey];
      return {
        devices: await hydrate(items),
        next: out.LastEvaluatedKey ? String(items.at(-1)?.[DUE_INDEX.sortKey]) : undefined,
        firstDue: first === undefined ? undefined : Date.parse(String(first).split('#')[0]!),
      };
    },

    async setDue(id, version, due, policy) {
      const attrs = due === null ? undefined : dueAttributes(id, due, dueShards);
      const fence = policy ? policyFence(policy) : undefined;
      const sets = [...(attrs ? ['due_pk = :dp', 'due_sk = :ds'] : []), ...(fence ? [fence.set] : [])];
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: deviceKey(id),
            UpdateExpression:
              (sets.length ? `SET ${sets.join(', ')}` : '') +
              (attrs ? '' : `${sets.length ? ' ' : ''}REMOVE due_pk, due_sk`),
            ConditionExpression: `#version = :v${fence ? ` AND ${fence.condition}` : ''}`,
            ExpressionAttributeNames: { '#version': 'version', ...fence?.names },
            ExpressionAttributeValues: {
              ':v': version,
              ...(attrs ? { ':dp': attrs.due_pk, ':ds': attrs.due_sk } : {}),
              ...fence?.values,
            },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) throw await lostRace(id, version, policy, error);
        throw error;
      }
    },

    async devicesOfDms(dms, shard, limit, after) {
      const out = await query({
        IndexName: INDEXES.byId.name,
        KeyConditionExpression: after === undefined ? '#p = :p' : '#p = :p AND #s > :a',
        ExpressionAttributeNames:
          after === undefined
            ? { '#p': INDEXES.byId.partitionKey }
            : { '#p': INDEXES.byId.partitionKey, '#s': INDEXES.byId.sortKey },
        ExpressionAttributeValues: {
          ':p': entryPartition(entryPrefix({ kind: 'DMS', value: dms }), shard),
          ...(after === undefined ? {} : { ':a': after }),
        },
        Limit: limit,
      });
      const items = out.Items ?? [];
      const last = items.at(-1);
      return {
        devices: await hydrate(items),
        next: out.LastEvaluatedKey && last ? String(last[INDEXES.byId.sortKey]) : undefined,
      };
    },

    async get(id) {
      const out = await client.send(new GetCommand({ TableName, Key: deviceKey(id), ConsistentRead: true }));
      if (out.Item) directReads++;
      return out.Item ? parseDeviceItem(out.Item) : undefined;
    },

    async save(change) {
      try {
        await transactWrite(client, deviceTransaction(ctx, change));
      } catch (error) {
        // The device write is first: its condition holds the version, the marker and the policy fence.
        if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') {
          if (!change.before) throw new DeviceAlreadyExistsError(change.after.id, { cause: error });
          throw await lostRace(change.after.id, change.before.version, change.policy, error);
        }
        throw error;
      }
    },

    async list(q) {
      const ready = await readyMetadataKeys(q.filters);
      const entry = chooseEntryPoint(q.filters, ready);
      const fingerprint = { e: entry, f: q.filters, s: q.sortBy, m: q.sortMode };
      if (entry.kind === 'ID') {
        if (q.bookmark) bookmarks.decode(fingerprint, q.bookmark);
        const device = await this.get(entry.value);
        return { list: device && matchesAll(device, q.filters) ? [device] : [], next: '' };
      }
      const after = q.bookmark ? bookmarks.decode(fingerprint, q.bookmark) : undefined;
      if (after !== undefined && !POSITION[q.sortBy].test(after)) throw new InvalidBookmarkError();
      const page = await listEntry({
        reader,
        index: indexFor(q.sortBy),
        prefixes: entryPrefixes(entry),
        shards: listShards,
        descending: q.sortMode === 'desc',
        after,
        pageSize: q.pageSize,
        filters: q.filters,
        needsDocument: !entryDecides(entry, q.filters, ready),
        readBudget,
        byteBudget: Math.min(listByteBudget, q.maxBytes ?? listByteBudget),
        atLeastOne: q.maxBytes === undefined,
      });
      return {
        list: page.list,
        next: page.resumeAfter === undefined ? '' : bookmarks.encode(fingerprint, page.resumeAfter),
      };
    },

    async listEvents(id, pageSize, bookmark) {
      const fingerprint = { events: id };
      // An events position is an event timestamp (functions/domain/device.ts nextEventTimestamps).
      const after = bookmark ? bookmarks.decode(fingerprint, bookmark, isEventTimestamp) : undefined;
      const out = await query({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': deviceKey(id).pk, ':prefix': DEVICE_EVENT_PREFIX },
        ScanIndexForward: false,
        // One extra item tells whether a next page exists, so the last page says next "".
        Limit: pageSize + 1,
        ExclusiveStartKey: after === undefined ? undefined : deviceEventKey(id, after),
      });
      const items = out.Items ?? [];
      const list: DeviceEvent[] = items.slice(0, pageSize).map((item) => {
        const { timestamp, type, description, slot } = item as unknown as DeviceEvent;
        return slot === undefined ? { timestamp, type, description } : { timestamp, type, description, slot };
      });
      const more = items.length > pageSize;
      return { list, next: more ? bookmarks.encode(fingerprint, list.at(-1)!.timestamp) : '' };
    },

    /**
     * Counters when the filters are none, `dms_owner[eq]` alone or one back-filled indexed metadata
     * `[eq|in]` alone; otherwise the best entry point is read once, within the statistics budget.
     */
    async stats(filters: readonly Filter[]) {
      if (filters.length === 0) return counters.statusCounters(statsScopeAll);
      const only = filters.length === 1 ? filters[0] : undefined;
      if (only?.kind === 'string' && only.field === 'dms_owner' && only.op === 'eq')
        return counters.statusCounters(statsScopeDms(only.values[0]!));
      const ready = await readyMetadataKeys(filters);
      const meta = only ? indexedMetadataFilter([only], ready) : undefined;
      if (meta) return counters.metadataCounters(meta.key, meta.texts);
      const entry = chooseEntryPoint(filters, ready);
      if (entry.kind === 'ID') {
        return stats(async (count) => {
          const device = await this.get(entry.value);
          if (device && matchesAll(device, filters)) count(device.status);
        });
      }
      const deadline = now() + timeBudgetMs;
      return stats((count) =>
        visitEntry({
          reader,
          prefixes: entryPrefixes(entry),
          shards: listShards,
          filters,
          needsDocument: !entryDecides(entry, filters, ready),
          readBudget: statsReadBudget,
          readByteBudget: statsReadByteBudget,
          deadline,
          now,
          count,
          onBudgetSpent: () => {
            throw QueryTooBroadError.statistics(
              filterToIndex(filters),
              statsReadBudget,
              now() > deadline ? 'time' : 'items',
            );
          },
        }),
      );
    },

    countersConsistentAsOf() {
      return counters.asOf();
    },

    async metadataValues(key) {
      if (!(await readyMetadataKeys()).includes(key)) throw new IndexNotReadyError(key);
      return counters.metadataDistribution(key);
    },

    async expirationsByDay(dms, lastDay) {
      return counters.forecastDays(dms, lastDay);
    },

    backfillIndexes(deadline, pageSize) {
      return indexes.backfill(deadline, pageSize);
    },
  };
}

const isEventTimestamp = (position: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(position);
