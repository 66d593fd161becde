/**
 * Counters: statistics per scope (status distribution), per indexed metadata value (status
 * distribution) and the expiry forecast (per day). A device contributes a set of counter cells; the
 * counter applier (counter-applier.ts) adds the difference of each change's before and after cells
 * from the table's stream, one `ADD` per counter item. Reads are BatchGetItem or Query of a few small
 * partitions, and report how fresh they are (`consistent_as_of`).
 */
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DeviceStats, MetadataValueStats, StatusDistribution } from '../../app/ports';
import { DEVICE_STATUSES, type Device } from '../../domain/device';
import { forecastEntries, metadataText } from '../../domain/insights';
import { inventoryValues } from '../../domain/inventory';
import { IDENTITY_SLOT } from '../../domain/slot-names';
import {
  certificatePair,
  PAIR_DIMENSION,
  connectivityStatsAttribute,
  connectivityStatsKey,
  findingStatsAttribute,
  findingStatsKey,
  forecastAttribute,
  forecastKey,
  forecastPartition,
  inventoryStatsKey,
  inventoryStatsPartition,
  metadataStatsKey,
  metadataStatsPartition,
  shardOf,
  statsKey,
  statsScopeAll,
  statsScopeDms,
  type TableKey,
  counterStateKey,
} from './keys';

type Item = Record<string, unknown>;

export const STATUS_ATTR = (status: string) => `c_${status}`;
/** The pseudo-key of the expiry forecast in a device's index marker (it is back-filled like a metadata key). */
export const FORECAST_KEY = '@forecast';
/**
 * The pseudo-key of the certificate inventory (counters and the identity key and issuer entries): back-filled
 * like a metadata key, the back-fill also giving old slots their crypto profile.
 */
export const INVENTORY_KEY = '@inventory';
/**
 * The pseudo-key of the inventory's drill-down entry on the identity's slot version item (keys.ts,
 * certificateEntry) and of its key and issuer pair counter (`PAIR_DIMENSION`). A marker with
 * `@inventory` but without it still has the two entry items written before, which the back-fill of this
 * key (or the device's next change) deletes.
 */
export const CERT_ENTRIES_KEY = '@cert-entries';
/**
 * The pseudo-key of the holder index attributes (schema.ts HOLDER_INDEX) on the active version of every
 * slot the shared checks judge: a marker without it has versions the index does not show yet, which the
 * back-fill of this key (or the device's next change) registers. No counter cell.
 */
export const HOLDERS_KEY = '@holders';
/** Pseudo-keys of the marker that are not indexed metadata keys. */
export const PSEUDO_KEYS: readonly string[] = [FORECAST_KEY, INVENTORY_KEY, CERT_ENTRIES_KEY, HOLDERS_KEY];
/** Attribute of an inventory counter item holding its count. */
const INVENTORY_COUNT = 'n';

/** Emptily-initialised status distribution with all seven statuses. */
export function emptyDistribution(): StatusDistribution {
  return Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as StatusDistribution;
}

export const totalOf = (distribution: StatusDistribution) => Object.values(distribution).reduce((a, b) => a + b, 0);

/** One counted unit: an attribute of a counter item, plus attributes the item carries (the value text). */
interface Cell {
  key: TableKey;
  attr: string;
  set?: Item;
}

/**
 * The cells a device adds to: its status in scopes ALL and its DMS, its status under each indexed
 * metadata value among `keys`, and (when `keys` holds FORECAST_KEY) its expiring certificates and secrets.
 */
export function deviceCells(device: Device, keys: ReadonlySet<string>, statsShards: number): Cell[] {
  const shard = shardOf(device.id, statsShards);
  const status = STATUS_ATTR(device.status);
  const scopes = [statsScopeAll, statsScopeDms(device.dms_owner)];
  const cells: Cell[] = scopes.map((scope) => ({ key: statsKey(scope, shard), attr: status }));
  for (const key of keys) {
    if (key === FORECAST_KEY) {
      for (const entry of forecastEntries(device))
        for (const scope of scopes)
          cells.push({ key: forecastKey(scope, shard, entry.day), attr: forecastAttribute(entry.kind, entry.day) });
      continue;
    }
    if (key === HOLDERS_KEY) continue;
    if (key === CERT_ENTRIES_KEY) {
      // The pair the drill-down entry is keyed by: counted so a drill-down reads only pairs that hold devices.
      const pair = certificatePair(device);
      if (pair !== undefined)
        cells.push({
          key: inventoryStatsKey(IDENTITY_SLOT, PAIR_DIMENSION, shard, pair),
          attr: INVENTORY_COUNT,
          set: { v: pair },
        });
      continue;
    }
    if (key === INVENTORY_KEY) {
      for (const { slot, dimension, value } of inventoryValues(device))
        cells.push({ key: inventoryStatsKey(slot, dimension, shard, value), attr: INVENTORY_COUNT, set: { v: value } });
      continue;
    }
    const text = metadataText(device, key);
    if (text !== undefined) cells.push({ key: metadataStatsKey(key, shard, text), attr: status, set: { v: text } });
  }
  return cells;
}

/** The cells of a device's open findings: one per finding (device slot) under its check's attribute. */
export const findingCells = (id: string, findings: readonly { check: string }[], statsShards: number): Cell[] =>
  findings.map((f) => ({ key: findingStatsKey(shardOf(id, statsShards)), attr: findingStatsAttribute(f.check) }));

/** The cell of a device's connectivity item: connected or not (docs/events.md, Presence: connectivity). */
export const connectivityCell = (id: string, connected: boolean, statsShards: number): Cell => ({
  key: connectivityStatsKey(shardOf(id, statsShards)),
  attr: connectivityStatsAttribute(connected),
});

/** Net additions per counter item: attribute → amount, plus attributes the item carries (the value text). */
export type CounterDeltas = Map<string, { key: TableKey; adds: Map<string, number>; set?: Item }>;

/** Adds to `into` the difference between the `before` cells and the `after` cells. */
export function addCellDeltas(into: CounterDeltas, before: readonly Cell[], after: readonly Cell[]): CounterDeltas {
  const add = (cell: Cell, n: number) => {
    const id = `${cell.key.pk}\u0000${cell.key.sk}`;
    let item = into.get(id);
    if (!item) into.set(id, (item = { key: cell.key, adds: new Map() }));
    item.adds.set(cell.attr, (item.adds.get(cell.attr) ?? 0) + n);
    if (cell.set) item.set = cell.set;
  };
  before.forEach((c) => add(c, -1));
  after.forEach((c) => add(c, 1));
  for (const [id, item] of into) {
    for (const [attr, n] of item.adds) if (n === 0) item.adds.delete(attr);
    if (item.adds.size === 0) into.delete(id);
  }
  return into;
}

/** One `ADD` update per counter item with a non-zero delta. */
export function counterUpdates(TableName: string, deltas: CounterDeltas) {
  const updates = [];
  for (const { key, adds, set } of deltas.values()) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const terms = [...adds].map(([attr, n], i) => {
      names[`#a${i}`] = attr;
      values[`:n${i}`] = n;
      return `#a${i} :n${i}`;
    });
    const sets = Object.entries(set ?? {}).map(([attr, value], i) => {
      names[`#s${i}`] = attr;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    updates.push({
      Update: {
        TableName,
        Key: key,
        UpdateExpression: `ADD ${terms.join(', ')}${sets.length ? ` SET ${sets.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    });
  }
  return updates;
}

function addStatuses(distribution: StatusDistribution, item: Item): void {
  for (const status of DEVICE_STATUSES) distribution[status] += Number(item[STATUS_ATTR(status)] ?? 0);
}

/** Reads counter items and how many were read. */
export interface CounterReader {
  statusCounters(scope: string): Promise<DeviceStats>;
  /** The commit time up to which the counters include every change (ISO; the epoch before the first). */
  asOf(): Promise<string>;
  metadataCounters(key: string, texts: readonly string[]): Promise<DeviceStats>;
  metadataDistribution(key: string): Promise<MetadataValueStats[]>;
  forecastDays(dms: string | undefined, lastDay: string): Promise<Map<string, { identity: number; slots: number }>>;
  /** Devices whose last presence event was a connect, and a disconnect (never connected: in neither). */
  connectivity(): Promise<{ connected: number; disconnected: number }>;
  /** Certificates in service of one slot by value of one inventory dimension (values counted 0 left out). */
  inventory(slot: string, dimension: string): Promise<Map<string, number>>;
}

export function counterReader(
  client: DynamoDBDocumentClient,
  TableName: string,
  statsShards: number,
  onRead: (items: number) => void,
): CounterReader {
  const shards = Array.from({ length: statsShards }, (_, s) => s);

  async function batchGet(keys: TableKey[]): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let request: Record<string, { Keys: Item[] }> | undefined = {
        [TableName]: { Keys: keys.slice(i, i + 100).map((k) => ({ ...k })) },
      };
      while (request && Object.keys(request).length > 0) {
        const out = await client.send(new BatchGetCommand({ RequestItems: request }));
        const items = out.Responses?.[TableName] ?? [];
        onRead(items.length);
        found.push(...items);
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }

  async function queryAll(pk: string, upTo?: string): Promise<Item[]> {
    const found: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await client.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: upTo === undefined ? 'pk = :pk' : 'pk = :pk AND sk <= :upTo',
          ExpressionAttributeValues: upTo === undefined ? { ':pk': pk } : { ':pk': pk, ':upTo': upTo },
          ExclusiveStartKey: startKey,
        }),
      );
      onRead(out.Items?.length ?? 0);
      found.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  async function asOf(): Promise<string> {
    const out = await client.send(new GetCommand({ TableName, Key: counterStateKey() }));
    if (out.Item) onRead(1);
    return typeof out.Item?.through === 'string' ? out.Item.through : new Date(0).toISOString();
  }

  const stats = async (keys: TableKey[]): Promise<DeviceStats> => {
    const [items, consistent_as_of] = await Promise.all([batchGet(keys), asOf()]);
    const distribution = emptyDistribution();
    items.forEach((item) => addStatuses(distribution, item));
    return { total: totalOf(distribution), status_distribution: distribution, consistent_as_of };
  };

  return {
    asOf,
    async statusCounters(scope) {
      return stats(shards.map((s) => statsKey(scope, s)));
    },
    async metadataCounters(key, texts) {
      return stats(texts.flatMap((text) => shards.map((s) => metadataStatsKey(key, s, text))));
    },
    async metadataDistribution(key) {
      const values = new Map<string, StatusDistribution>();
      const parts = await Promise.all(shards.map((s) => queryAll(metadataStatsPartition(key, s))));
      for (const item of parts.flat()) {
        const value = String(item.v);
        let distribution = values.get(value);
        if (!distribution) values.set(value, (distribution = emptyDistribution()));
        addStatuses(distribution, item);
      }
      return [...values]
        .map(([value, distribution]) => ({
          value,
          stats: { total: totalOf(distribution), status_distribution: distribution },
        }))
        .filter((v) => v.stats.total > 0);
    },
    async connectivity() {
      const items = await batchGet(shards.map(connectivityStatsKey));
      const sum = (connected: boolean) =>
        items.reduce((n, item) => n + Number(item[connectivityStatsAttribute(connected)] ?? 0), 0);
      return { connected: sum(true), disconnected: sum(false) };
    },
    async inventory(slot, dimension) {
      const counts = new Map<string, number>();
      const parts = await Promise.all(shards.map((s) => queryAll(inventoryStatsPartition(slot, dimension, s))));
      for (const item of parts.flat()) {
        const value = String(item.v);
        counts.set(value, (counts.get(value) ?? 0) + Number(item[INVENTORY_COUNT] ?? 0));
      }
      for (const [value, n] of counts) if (n === 0) counts.delete(value);
      return counts;
    },
    async forecastDays(dms, lastDay) {
      const scope = dms === undefined ? statsScopeAll : statsScopeDms(dms);
      const days = new Map<string, { identity: number; slots: number }>();
      const parts = await Promise.all(shards.map((s) => queryAll(forecastPartition(scope, s), lastDay.slice(0, 7))));
      for (const item of parts.flat()) {
        const month = String(item.sk);
        for (const [attr, n] of Object.entries(item)) {
          const match = /^([is])(\d{2})$/.exec(attr);
          if (!match || typeof n !== 'number' || n === 0) continue;
          const day = `${month}-${match[2]}`;
          const counts = days.get(day) ?? { identity: 0, slots: 0 };
          if (match[1] === 'i') counts.identity += n;
          else counts.slots += n;
          days.set(day, counts);
        }
      }
      return days;
    },
  };
}
