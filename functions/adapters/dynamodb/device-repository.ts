/**
 * DeviceRepository on the single table. One change = one TransactWriteItems: the device item
 * (conditioned on its version), its index entries, its events, the statistics counters and the outbox.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DeviceChange, DeviceRepository, DeviceStats, Page, StatusDistribution } from '../../app/ports';
import { DEVICE_STATUSES, type Device, type DeviceEvent } from '../../domain/device';
import type { SlotVersion } from '../../domain/slots';
import { DeviceAlreadyExistsError, VersionConflictError } from '../../domain/errors';
import { type Filter, matchesAll } from '../../domain/filters';
import { chooseEntryPoint, type DeviceListQuery, type EntryPoint } from '../../domain/query';
import { type BookmarkCodec } from './bookmark';
import {
  companionEntries,
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
  indexFor,
  shardOf,
  sortAttributes,
  statsKey,
  statsScopeAll,
  statsScopeDms,
} from './keys';
import { outboxPuts, OUTBOX_TTL_SECONDS } from './outbox';
import { DUE_INDEX, INDEXES, type IndexDefinition, SERIAL_INDEX } from './schema';
import { cancellationCodes, transactWrite } from './transact';

export interface DeviceRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Write shards of every entry partition (all devices, a status, a DMS, a tag). */
  listShards: number;
  /** Write shards of each statistics counter scope. */
  statsShards: number;
  /** Write shards of the due index. */
  dueShards?: number;
  bookmarks: BookmarkCodec;
  /** Items a list request may read before it returns a partial page with a bookmark. */
  readBudget?: number;
  /** Seconds an outbox record is kept before TTL deletes it (the stream has it within seconds). */
  outboxTtlSeconds?: number;
}

type Item = Record<string, unknown>;
type StatusDelta = Partial<Record<string, number>>;

const STATUS_ATTR = (status: string) => `c_${status}`;

/** Emptily-initialised status distribution with all seven statuses. */
export function emptyDistribution(): StatusDistribution {
  return Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as StatusDistribution;
}

export function deviceRepository(options: DeviceRepositoryOptions): DeviceRepository & { readonly itemsRead: number } {
  const { client, tableName: TableName, listShards, statsShards, dueShards = 4, bookmarks, readBudget = 2000, outboxTtlSeconds = OUTBOX_TTL_SECONDS } = options;
  let itemsRead = 0;

  const parseDoc = (item: Item): Device => JSON.parse(item.doc as string) as Device;

  function entryItem(device: Device, key: { pk: string; sk: string }, prefix: string, doc: string): Item {
    return { ...key, kind: 'entry', epk: entryPartition(prefix, shardOf(device.id, listShards)), ...sortAttributes(device), doc };
  }

  function counterUpdate(scope: string, shard: number, delta: StatusDelta) {
    const entries = Object.entries(delta).filter(([, n]) => n !== 0);
    if (entries.length === 0) return [];
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const adds = entries.map(([status, n], i) => {
      names[`#s${i}`] = STATUS_ATTR(status);
      values[`:n${i}`] = n!;
      return `#s${i} :n${i}`;
    });
    return [{ Update: { TableName, Key: statsKey(scope, shard), UpdateExpression: `ADD ${adds.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values } }];
  }

  /** The device item write: a Put when registering, else an Update that keeps or moves the due key. */
  function deviceWrite(change: DeviceChange, doc: string) {
    const { before, after, due } = change;
    const index = { epk: entryPartition(entryPrefix({ kind: 'ALL' }), shardOf(after.id, listShards)), ...sortAttributes(after) };
    if (!before) {
      const dueAttrs = typeof due === 'number' ? dueAttributes(after.id, due, dueShards) : {};
      return { Put: { TableName, Item: { ...deviceKey(after.id), kind: 'device', ...index, ...dueAttrs, version: after.version, doc }, ConditionExpression: 'attribute_not_exists(pk)' } };
    }
    const values: Record<string, unknown> = { ':doc': doc, ':next': after.version, ':v': before.version };
    const sets = ['#doc = :doc', '#version = :next'];
    for (const [name, value] of Object.entries(index)) {
      values[`:${name}`] = value;
      sets.push(`${name} = :${name}`);
    }
    let remove = '';
    if (typeof due === 'number') {
      const attrs = dueAttributes(after.id, due, dueShards);
      values[':dp'] = attrs.due_pk;
      values[':ds'] = attrs.due_sk;
      sets.push('due_pk = :dp', 'due_sk = :ds');
    } else if (due === null) remove = ' REMOVE due_pk, due_sk';
    return {
      Update: {
        TableName,
        Key: deviceKey(after.id),
        UpdateExpression: `SET ${sets.join(', ')}${remove}`,
        ConditionExpression: '#version = :v',
        ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version' },
        ExpressionAttributeValues: values,
      },
    };
  }

  function versionItem(version: SlotVersion): Item {
    return {
      ...slotVersionKey(version.device_id, version.slot, version.version),
      kind: 'slot-version',
      ...(version.certificate ? { serial: version.certificate.serial_number } : {}),
      doc: JSON.stringify(version),
    };
  }

  function transaction(change: DeviceChange): TransactWriteCommandInput {
    const { before, after } = change;
    const doc = JSON.stringify(after);
    const entries = companionEntries(after);
    const kept = new Set(entries.map((e) => e.key.sk));
    const removed = before ? companionEntries(before).filter((e) => !kept.has(e.key.sk)) : [];

    const delta: StatusDelta = {};
    if (!before) delta[after.status] = 1;
    else if (before.status !== after.status) {
      delta[before.status] = -1;
      delta[after.status] = 1;
    }
    const statsShard = shardOf(after.id, statsShards);

    return {
      TransactItems: [
        deviceWrite(change, doc),
        ...entries.map((e) => ({ Put: { TableName, Item: entryItem(after, e.key, e.prefix, doc) } })),
        ...removed.map((e) => ({ Delete: { TableName, Key: e.key } })),
        ...(change.versions ?? []).map((v) => ({ Put: { TableName, Item: versionItem(v) } })),
        ...change.events.map((event) => ({ Put: { TableName, Item: { ...deviceEventKey(after.id, event.timestamp), kind: 'event', ...event } } })),
        ...counterUpdate(statsScopeAll, statsShard, delta),
        ...counterUpdate(statsScopeDms(after.dms_owner), statsShard, delta),
        ...outboxPuts(TableName, change.outbox, outboxTtlSeconds),
      ],
    };
  }

  async function query(input: Omit<QueryCommandInput, 'TableName'>) {
    const out = await client.send(new QueryCommand({ TableName, ...input }));
    itemsRead += out.ScannedCount ?? out.Items?.length ?? 0;
    return out;
  }

  /** One shard of an entry partition, read lazily in growing chunks. */
  class ShardCursor {
    buffer: Item[] = [];
    done = false;
    private startKey: Item | undefined;
    private chunk: number;
    constructor(
      private readonly partition: string,
      private readonly index: IndexDefinition,
      private readonly descending: boolean,
      private readonly after: string | undefined,
      chunk: number,
    ) {
      this.chunk = chunk;
    }
    async fill(): Promise<void> {
      if (this.done || this.buffer.length > 0) return;
      const { index, after } = this;
      const out = await query({
        IndexName: index.name,
        KeyConditionExpression: after === undefined ? '#p = :p' : `#p = :p AND #s ${this.descending ? '<' : '>'} :a`,
        ExpressionAttributeNames: after === undefined ? { '#p': index.partitionKey } : { '#p': index.partitionKey, '#s': index.sortKey },
        ExpressionAttributeValues: after === undefined ? { ':p': this.partition } : { ':p': this.partition, ':a': after },
        ScanIndexForward: !this.descending,
        Limit: this.chunk,
        ExclusiveStartKey: this.startKey,
      });
      this.buffer = out.Items ?? [];
      this.startKey = out.LastEvaluatedKey;
      this.done = out.LastEvaluatedKey === undefined;
      this.chunk = Math.min(this.chunk * 2, 1000);
    }
  }

  /**
   * Lists one entry point in sort order: a k-way merge of its shards, each read lazily so a page
   * reads little more than it returns. Resumes strictly after the bookmarked sort key.
   */
  async function listEntry(entry: Exclude<EntryPoint, { kind: 'ID' }>, q: DeviceListQuery, fingerprint: unknown): Promise<Page<Device>> {
    const index = indexFor(q.sortBy);
    const descending = q.sortMode === 'desc';
    const after = q.bookmark ? bookmarks.decode(fingerprint, q.bookmark) : undefined;
    const chunk = Math.ceil(q.pageSize / listShards) + 1;
    const prefix = entryPrefix(entry);
    const cursors = Array.from({ length: listShards }, (_, s) => new ShardCursor(entryPartition(prefix, s), index, descending, after, chunk));
    const readAtStart = itemsRead;
    const page: Device[] = [];
    let lastExamined = after;

    const nextItem = async (): Promise<Item | undefined> => {
      await Promise.all(cursors.map((c) => c.fill()));
      let best: ShardCursor | undefined;
      for (const c of cursors) {
        const head = c.buffer[0];
        if (!head) continue;
        const key = head[index.sortKey] as string;
        const bestKey = best?.buffer[0]?.[index.sortKey] as string | undefined;
        if (bestKey === undefined || (descending ? key > bestKey : key < bestKey)) best = c;
      }
      return best?.buffer.shift();
    };

    for (;;) {
      const budgetLeft = itemsRead - readAtStart < readBudget;
      if (!budgetLeft) return { list: page, next: bookmarks.encode(fingerprint, lastExamined ?? '') };
      const item = await nextItem();
      if (!item) return { list: page, next: '' };
      const device = parseDoc(item);
      if (!matchesAll(device, q.filters)) {
        lastExamined = item[index.sortKey] as string;
        continue;
      }
      // A further match exists: the page is full and there is a next page.
      if (page.length === q.pageSize) return { list: page, next: bookmarks.encode(fingerprint, lastExamined!) };
      page.push(device);
      lastExamined = item[index.sortKey] as string;
    }
  }

  /** Reads every device of an entry point (all shards, no order) and hands each to `visit`. */
  async function visitEntry(entry: Exclude<EntryPoint, { kind: 'ID' }>, visit: (device: Device) => void): Promise<void> {
    const prefix = entryPrefix(entry);
    await Promise.all(
      Array.from({ length: listShards }, async (_, s) => {
        let startKey: Item | undefined;
        do {
          const out = await query({
            IndexName: INDEXES.byCreated.name,
            KeyConditionExpression: '#p = :p',
            ExpressionAttributeNames: { '#p': INDEXES.byCreated.partitionKey },
            ExpressionAttributeValues: { ':p': entryPartition(prefix, s) },
            ExclusiveStartKey: startKey,
          });
          for (const item of out.Items ?? []) visit(parseDoc(item));
          startKey = out.LastEvaluatedKey;
        } while (startKey);
      }),
    );
  }

  async function counters(scope: string): Promise<DeviceStats> {
    const distribution = emptyDistribution();
    let keys: Item[] = Array.from({ length: statsShards }, (_, s) => ({ ...statsKey(scope, s) }));
    while (keys.length > 0) {
      const batch = keys.slice(0, 100);
      keys = keys.slice(100);
      let request: Record<string, { Keys: Item[] }> | undefined = { [TableName]: { Keys: batch } };
      while (request && Object.keys(request).length > 0) {
        const out = await client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[TableName] ?? []) {
          itemsRead++;
          for (const status of DEVICE_STATUSES) distribution[status] += Number(item[STATUS_ATTR(status)] ?? 0);
        }
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return { total: Object.values(distribution).reduce((a, b) => a + b, 0), status_distribution: distribution };
  }

  return {
    get itemsRead() {
      return itemsRead;
    },
    dueShards,
    listShards,

    async getSlotVersion(id, slot, version) {
      const out = await client.send(new GetCommand({ TableName, Key: slotVersionKey(id, slot, version), ConsistentRead: true }));
      if (out.Item) itemsRead++;
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
        if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(`${version.device_id}/${version.slot}/${version.version}`, { cause: error });
        throw error;
      }
    },

    async dueDevices(shard, now, limit, after) {
      const out = await query({
        IndexName: DUE_INDEX.name,
        KeyConditionExpression: after === undefined ? '#p = :p AND #s <= :upTo' : '#p = :p AND #s BETWEEN :after AND :upTo',
        ExpressionAttributeNames: { '#p': DUE_INDEX.partitionKey, '#s': DUE_INDEX.sortKey },
        // BETWEEN is inclusive: appending a character past every id makes `after` itself excluded.
        ExpressionAttributeValues: { ':p': duePartition(shard), ':upTo': dueUpTo(now), ...(after === undefined ? {} : { ':after': `${after}\u0000` }) },
        Limit: limit,
      });
      const items = out.Items ?? [];
      const first = items[0]?.[DUE_INDEX.sortKey];
      return {
        devices: items.map(parseDoc),
        next: out.LastEvaluatedKey ? String(items.at(-1)?.[DUE_INDEX.sortKey]) : undefined,
        firstDue: first === undefined ? undefined : Date.parse(String(first).split('#')[0]!),
      };
    },

    async setDue(id, version, due) {
      const attrs = due === null ? undefined : dueAttributes(id, due, dueShards);
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: deviceKey(id),
            UpdateExpression: attrs ? 'SET due_pk = :dp, due_sk = :ds' : 'REMOVE due_pk, due_sk',
            ConditionExpression: '#version = :v',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: attrs ? { ':v': version, ':dp': attrs.due_pk, ':ds': attrs.due_sk } : { ':v': version },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(id, { cause: error });
        throw error;
      }
    },

    async devicesOfDms(dms, shard, limit, after) {
      const out = await query({
        IndexName: INDEXES.byId.name,
        KeyConditionExpression: after === undefined ? '#p = :p' : '#p = :p AND #s > :a',
        ExpressionAttributeNames: after === undefined ? { '#p': INDEXES.byId.partitionKey } : { '#p': INDEXES.byId.partitionKey, '#s': INDEXES.byId.sortKey },
        ExpressionAttributeValues: { ':p': entryPartition(entryPrefix({ kind: 'DMS', value: dms }), shard), ...(after === undefined ? {} : { ':a': after }) },
        Limit: limit,
      });
      const devices = (out.Items ?? []).map(parseDoc);
      return { devices, next: out.LastEvaluatedKey ? devices.at(-1)?.id : undefined };
    },

    async get(id) {
      const out = await client.send(new GetCommand({ TableName, Key: deviceKey(id), ConsistentRead: true }));
      if (out.Item) itemsRead++;
      return out.Item ? parseDoc(out.Item) : undefined;
    },

    async save(change) {
      try {
        await transactWrite(client, transaction(change));
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') {
          if (change.before) throw new VersionConflictError(change.after.id, { cause: error });
          throw new DeviceAlreadyExistsError(change.after.id, { cause: error });
        }
        throw error;
      }
    },

    async list(q) {
      const entry = chooseEntryPoint(q.filters);
      const fingerprint = { e: entry, f: q.filters, s: q.sortBy, m: q.sortMode };
      if (entry.kind === 'ID') {
        if (q.bookmark) bookmarks.decode(fingerprint, q.bookmark);
        const device = await this.get(entry.value);
        return { list: device && matchesAll(device, q.filters) ? [device] : [], next: '' };
      }
      return listEntry(entry, q, fingerprint);
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

    async stats(filters: readonly Filter[]) {
      if (filters.length === 0) return counters(statsScopeAll);
      const only = filters[0];
      if (filters.length === 1 && only?.kind === 'string' && only.field === 'dms_owner' && only.op === 'eq') return counters(statsScopeDms(only.values[0]!));
      const entry = chooseEntryPoint(filters);
      const distribution = emptyDistribution();
      const count = (device: Device) => {
        if (matchesAll(device, filters)) distribution[device.status]++;
      };
      if (entry.kind === 'ID') {
        const device = await this.get(entry.value);
        if (device) count(device);
      } else await visitEntry(entry, count);
      return { total: Object.values(distribution).reduce((a, b) => a + b, 0), status_distribution: distribution };
    },
  };
}

const isEventTimestamp = (position: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(position);
