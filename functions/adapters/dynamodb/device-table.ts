/**
 * What the device capabilities on the single table share: the client and settings, the index and
 * table reader, the counters, the state of the indexed keys, and the count of items read.
 * Shard counts live here and in the key helpers: no port exposes them to the use cases.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Device } from '../../domain/device';
import type { Filter } from '../../domain/filters';
import {
  DEFAULT_LIST_BYTE_BUDGET,
  DEFAULT_REQUEST_TIME_BUDGET_MS,
  DEFAULT_STATS_READ_BYTE_BUDGET,
  indexedMetadataFilter,
} from '../../domain/query';
import type { BookmarkCodec } from './bookmark';
import {
  CERT_ENTRIES_KEY,
  type CounterReader,
  counterReader,
  FORECAST_KEY,
  HOLDERS_KEY,
  INVENTORY_KEY,
} from './counters';
import type { WriteContext } from './device-writes';
import { type IndexState, indexState } from './index-backfill';
import { idOfEntry, type TableReader, tableReader } from './list-cursor';
import { type MetadataRanks, metadataRanks } from './metadata-ranks';
import { DEFAULT_EVENT_RETENTION_DAYS } from './device-writes';
import { OUTBOX_TTL_SECONDS } from './outbox';

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
  /** A pause function per list or statistics read: long reads pause in slices (functions/runtime/turns.ts). */
  turns?: () => () => Promise<void>;
  /** Whether other requests are in flight (functions/runtime/turns.ts): long reads then slice finer. */
  crowded?: () => boolean;
  /** Whether the running code is a heavy request's with priorities on (turns.ts): its reads slice finely. */
  heavy?: () => boolean;
  /** Days a device event item is kept before TTL deletes it (EVENT_RETENTION_DAYS, default 400). */
  eventRetentionDays?: number;
  /** Days a job's per-device outcome is kept before TTL deletes it (JOB_RETENTION_DAYS); kept for ever when absent. */
  jobRetentionDays?: number;
  /** Keep the certificate inventory (default): off only to measure what it adds (bench:posture). */
  inventory?: boolean;
}

export interface DeviceTable {
  client: DynamoDBDocumentClient;
  TableName: string;
  ctx: WriteContext;
  bookmarks: BookmarkCodec;
  reader: TableReader;
  counters: CounterReader;
  /** The ranked values of the indexed metadata keys (the distribution's read). */
  ranks: MetadataRanks;
  indexes: IndexState;
  indexedMetadataKeys: readonly string[];
  budgets: {
    readBudget: number;
    statsReadBudget: number;
    listByteBudget: number;
    statsReadByteBudget: number;
    timeBudgetMs: number;
  };
  now: () => number;
  /** A pause function for one long read, and whether other requests are in flight (cooperative turns). */
  turns?: () => () => Promise<void>;
  crowded?: () => boolean;
  heavy?: () => boolean;
  /** Counts items read by a direct GetItem (the reader and the counters count their own). */
  countRead(): void;
  /** Items read so far, every capability together. */
  readonly itemsRead: number;
  /** Hydrates index items into devices (strongly consistent: the sweeper acts on them). */
  hydrate(items: Record<string, unknown>[]): Promise<Device[]>;
  /** The back-filled keys; read only when a filter names an indexed key (a cached Query of the state partition). */
  readyMetadataKeys(filters?: readonly Filter[]): Promise<string[]>;
  /**
   * Whether the certificate inventory is back-filled (with `entries`, its drill-down entries too); read
   * only when asked (the same cached state).
   */
  inventoryReady(entries?: boolean): Promise<boolean>;
}

export function deviceTable(options: DeviceRepositoryOptions): DeviceTable {
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
    turns,
    crowded,
    heavy,
    eventRetentionDays = DEFAULT_EVENT_RETENTION_DAYS,
    jobRetentionDays,
    inventory = true,
  } = options;
  const ctx: WriteContext = {
    TableName,
    listShards,
    statsShards,
    dueShards,
    outboxTtlSeconds,
    eventTtlSeconds: eventRetentionDays * 86_400,
    ...(jobRetentionDays === undefined ? {} : { jobOutcomeTtlSeconds: jobRetentionDays * 86_400 }),
    indexedKeys: new Set([
      ...indexedMetadataKeys,
      FORECAST_KEY,
      ...(inventory ? [INVENTORY_KEY, CERT_ENTRIES_KEY, HOLDERS_KEY] : []),
    ]),
  };
  const reader = tableReader(client, TableName);
  let counterItems = 0;
  let directReads = 0;
  const counters = counterReader(client, TableName, statsShards, (n) => (counterItems += n));
  const ranks = metadataRanks(client, TableName, statsShards, (n) => (counterItems += n));
  const indexes = indexState(client, reader, ctx, ranks);

  return {
    client,
    TableName,
    ctx,
    bookmarks,
    reader,
    counters,
    ranks,
    indexes,
    indexedMetadataKeys,
    budgets: { readBudget, statsReadBudget, listByteBudget, statsReadByteBudget, timeBudgetMs },
    now,
    turns,
    crowded,
    heavy,
    countRead: () => void directReads++,
    get itemsRead() {
      return reader.itemsRead + counterItems + directReads;
    },
    async hydrate(items) {
      const docs = await reader.devices(items.map(idOfEntry), true);
      return items.map((item) => docs.get(idOfEntry(item))).filter((d): d is Device => d !== undefined);
    },
    async readyMetadataKeys(filters) {
      if (indexedMetadataKeys.length === 0) return [];
      if (filters && !indexedMetadataFilter(filters, indexedMetadataKeys)) return [];
      const ready = await indexes.ready();
      return indexedMetadataKeys.filter((k) => ready.has(k));
    },
    async inventoryReady(entries = false) {
      const ready = await indexes.ready();
      return ready.has(INVENTORY_KEY) && (!entries || ready.has(CERT_ENTRIES_KEY));
    },
  };
}
