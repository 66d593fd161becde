/**
 * Reading an entry point: a k-way merge of its partitions (values × shards), each read lazily in
 * growing chunks from a slim index (keys, sort keys, status), with the page's devices read from the
 * table by BatchGetItem. Status filters apply to the index items; other filters to the devices.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Device } from '../../domain/device';
import { type Filter, matchesAll } from '../../domain/filters';
import { parseDeviceItem } from './device-writes';
import { jsonBytes } from '../../domain/json-text';
import { DEVICE_PAGE_WEIGHT, pageWeight } from '../../domain/query';
import { deviceKey, entryPartition } from './keys';
import { INDEXES, type IndexDefinition, STATUS_ATTRIBUTE } from './schema';

type Item = Record<string, unknown>;

export interface TableReader {
  query(input: Omit<QueryCommandInput, 'TableName'>): Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>;
  /** The stored devices of these ids (missing ones absent), by id. */
  devices(ids: readonly string[], consistent: boolean): Promise<Map<string, Device>>;
  /** Items read so far (index and table). */
  readonly itemsRead: number;
}

export function tableReader(client: DynamoDBDocumentClient, TableName: string): TableReader {
  let itemsRead = 0;
  return {
    get itemsRead() {
      return itemsRead;
    },
    async query(input) {
      const out = await client.send(new QueryCommand({ TableName, ...input }));
      itemsRead += out.ScannedCount ?? out.Items?.length ?? 0;
      return out;
    },
    async devices(ids, consistent) {
      const found = new Map<string, Device>();
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += 100) {
        let request: Record<string, { Keys: Item[]; ConsistentRead: boolean }> | undefined = {
          [TableName]: {
            Keys: unique.slice(i, i + 100).map((id) => ({ ...deviceKey(id) })),
            ConsistentRead: consistent,
          },
        };
        while (request && Object.keys(request).length > 0) {
          const out = await client.send(new BatchGetCommand({ RequestItems: request }));
          for (const item of out.Responses?.[TableName] ?? []) {
            itemsRead++;
            const device = parseDeviceItem(item);
            found.set(device.id, device);
          }
          request = out.UnprocessedKeys as typeof request;
        }
      }
      return found;
    },
  };
}

/** A reader that also counts its own reads: one request's budget is not spent by a concurrent one. */
export function scopedReader(reader: TableReader): TableReader {
  let own = 0;
  return {
    get itemsRead() {
      return own;
    },
    async query(input) {
      const out = await reader.query(input);
      own += (out as { ScannedCount?: number }).ScannedCount ?? out.Items?.length ?? 0;
      return out;
    },
    async devices(ids, consistent) {
      const found = await reader.devices(ids, consistent);
      own += found.size;
      return found;
    },
  };
}

/** The device id of an entry or device item (`pk = DEVICE#<id>`). */
export const idOfEntry = (item: Item) => String(item.pk).slice('DEVICE#'.length);

/**
 * One page of an entry partition in id order after `after`, and the id to go on from (undefined on
 * the last page): how every device of an entry point (a DMS's, all of them) is walked.
 */
export async function entryPageById(
  reader: TableReader,
  partition: string,
  limit: number,
  after?: string,
): Promise<{ items: Item[]; next?: string }> {
  const { name, partitionKey, sortKey } = INDEXES.byId;
  const out = await reader.query({
    IndexName: name,
    KeyConditionExpression: after === undefined ? '#p = :p' : '#p = :p AND #s > :a',
    ExpressionAttributeNames: after === undefined ? { '#p': partitionKey } : { '#p': partitionKey, '#s': sortKey },
    ExpressionAttributeValues: after === undefined ? { ':p': partition } : { ':p': partition, ':a': after },
    Limit: limit,
  });
  const items = out.Items ?? [];
  const last = items.at(-1);
  return { items, next: out.LastEvaluatedKey && last ? String(last[sortKey]) : undefined };
}

/** Whether an index item passes the status filters (the index holds each device's status). */
export function statusPasses(item: Item, filters: readonly Filter[]): boolean {
  const status = item[STATUS_ATTRIBUTE] as string | undefined;
  if (status === undefined) return true;
  return filters.every(
    (f) => f.kind !== 'status' || (f.op === 'ne' ? status !== f.values[0] : f.values.includes(status)),
  );
}

/** One partition of an entry point, read lazily in growing chunks. */
class PartitionCursor {
  buffer: Item[] = [];
  done = false;
  private startKey: Item | undefined;
  constructor(
    private readonly reader: TableReader,
    private readonly partition: string,
    private readonly index: IndexDefinition,
    private readonly descending: boolean,
    private readonly after: string | undefined,
    private chunk: number,
  ) {}
  async fill(): Promise<void> {
    if (this.done || this.buffer.length > 0) return;
    const { index, after } = this;
    const out = await this.reader.query({
      IndexName: index.name,
      KeyConditionExpression: after === undefined ? '#p = :p' : `#p = :p AND #s ${this.descending ? '<' : '>'} :a`,
      ExpressionAttributeNames:
        after === undefined ? { '#p': index.partitionKey } : { '#p': index.partitionKey, '#s': index.sortKey },
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

export interface EntryPage {
  list: Device[];
  /** Sort key of the last item examined, to resume after; undefined when the entry point is exhausted. */
  resumeAfter?: string;
  /** True when the read budget stopped the page. */
  budgetSpent: boolean;
}

export interface ListEntryInput {
  reader: TableReader;
  index: IndexDefinition;
  prefixes: readonly string[];
  shards: number;
  descending: boolean;
  after?: string;
  pageSize: number;
  filters: readonly Filter[];
  /** False when the entry point and the status already decide every filter (no device read to decide). */
  needsDocument: boolean;
  /**
   * False when the entries' status may be stale (connectivity entries carry it as of their last write):
   * status filters are then decided on the devices read (needsDocument). Default true.
   */
  indexStatus?: boolean;
  readBudget: number;
  /**
   * Bytes of devices the page may hold, each weighing its serialized bytes and DEVICE_PAGE_WEIGHT
   * (domain/query.ts): it ends early, with a position, when full.
   */
  byteBudget?: number;
  /**
   * Whether a page holds at least one device even past the byte budget (true for a whole page;
   * false when a caller fills the rest of its own page, which may then end empty with a position).
   */
  atLeastOne?: boolean;
  /** Epoch milliseconds after which a statistics walk stops (the request's time budget). */
  deadline?: number;
  now?: () => number;
  /**
   * Yields the event loop (functions/runtime/turns.ts), called after every READ_SLICE_DEVICES devices
   * read: a long read runs in slices between which other requests' work runs. None when absent.
   */
  pause?: () => Promise<void>;
  /**
   * Whether other requests are in flight: a read past its first READ_SLICE_DEVICES devices then
   * reads and pauses every CROWDED_SLICE_DEVICES, so the light requests beside it wait less.
   */
  crowded?: () => boolean;
  /**
   * Whether this is a heavy request with priorities on (functions/runtime/turns.ts): the page then
   * reads devices in CROWDED_SLICE_DEVICES slices from its start, each followed by a pause.
   */
  heavy?: () => boolean;
}

/** Devices read between two pauses of a long read: one BatchGetItem's worth. */
export const READ_SLICE_DEVICES = 100;
/** The slice of a read past its first READ_SLICE_DEVICES devices while other requests are in flight. */
export const CROWDED_SLICE_DEVICES = 25;

/**
 * Reads devices by id in slices, pausing after each full slice: READ_SLICE_DEVICES, or
 * CROWDED_SLICE_DEVICES once the read is past its first slice and other requests are in flight, or
 * from its start in a heavy request.
 */
function slicedReader(
  reader: TableReader,
  pause: (() => Promise<void>) | undefined,
  crowded: () => boolean = () => false,
  heavy: () => boolean = () => false,
) {
  let sinceAPause = 0;
  let total = 0;
  return async (ids: readonly string[]): Promise<Map<string, Device>> => {
    if (!pause) return ids.length > 0 ? reader.devices(ids, false) : new Map<string, Device>();
    const found = new Map<string, Device>();
    for (let i = 0; i < ids.length; ) {
      const fine = heavy() || (total >= READ_SLICE_DEVICES && crowded());
      const size = fine ? CROWDED_SLICE_DEVICES : READ_SLICE_DEVICES;
      const slice = ids.slice(i, i + Math.max(1, size - sinceAPause));
      i += slice.length;
      for (const [id, device] of await reader.devices(slice, false)) found.set(id, device);
      sinceAPause += slice.length;
      total += slice.length;
      if (sinceAPause >= size) {
        sinceAPause = 0;
        await pause();
      }
    }
    return found;
  };
}

/** Serialized bytes of a device, as a page or a response counts them (from its stored text when read). */
export const deviceBytes = (device: Device) => jsonBytes(device);

/** Lists one entry point in sort order, strictly after `after`. */
export async function listEntry(input: ListEntryInput): Promise<EntryPage> {
  const {
    index,
    prefixes,
    shards,
    descending,
    after,
    pageSize,
    filters,
    needsDocument,
    readBudget,
    byteBudget = Number.POSITIVE_INFINITY,
    atLeastOne = true,
  } = input;
  const reader = scopedReader(input.reader);
  const heavy = input.heavy ?? (() => false);
  const readDevices = slicedReader(reader, input.pause, input.crowded, heavy);
  // Half again the even share: hashed ids are not spread perfectly, and a refill costs a Query (a
  // read unit's half at least) where a few more slim items in the first one cost nothing.
  // Sized for the devices the byte budget lets a page hold, when fewer than the page size: each
  // weighs DEVICE_PAGE_WEIGHT at least, so a large page_size reads no more than the page can take.
  const pageCapacity = Math.min(pageSize, Math.max(1, Math.floor(byteBudget / DEVICE_PAGE_WEIGHT)));
  const chunk = Math.ceil((1.5 * pageCapacity) / (shards * prefixes.length)) + 1;
  const cursors = prefixes.flatMap((prefix) =>
    Array.from(
      { length: shards },
      (_, s) => new PartitionCursor(reader, entryPartition(prefix, s), index, descending, after, chunk),
    ),
  );
  const readAtStart = reader.itemsRead;
  const page: Device[] = [];
  let pageBytes = 0;
  let lastExamined = after;
  const sortKeyOf = (item: Item) => item[index.sortKey] as string;

  const nextItem = async (): Promise<Item | undefined> => {
    await Promise.all(cursors.map((c) => c.fill()));
    let best: PartitionCursor | undefined;
    for (const c of cursors) {
      const head = c.buffer[0];
      if (!head) continue;
      const bestKey = best ? sortKeyOf(best.buffer[0]!) : undefined;
      if (bestKey === undefined || (descending ? sortKeyOf(head) > bestKey : sortKeyOf(head) < bestKey)) best = c;
    }
    return best?.buffer.shift();
  };

  for (;;) {
    if (reader.itemsRead - readAtStart >= readBudget)
      return { list: page, resumeAfter: lastExamined ?? '', budgetSpent: true };
    // One round: the next few items in order; only those passing the status filters are candidates.
    // No more than the byte budget's room could still take, judged by the weight of the devices
    // taken so far (each weighs DEVICE_PAGE_WEIGHT at least), and one slice at a time: the room is
    // judged again after each, so a page that the budget ends reads few devices past its end.
    const average = page.length > 0 ? pageBytes / page.length : DEVICE_PAGE_WEIGHT;
    const room = Math.max(1, Math.floor((byteBudget - pageBytes) / average));
    const slice = input.pause && heavy() ? CROWDED_SLICE_DEVICES : READ_SLICE_DEVICES;
    const want = Math.min(pageSize - page.length, room, slice) + 1;
    const round: { item: Item; candidate: boolean }[] = [];
    let candidates = 0;
    let exhausted = false;
    while (candidates < want) {
      const item = await nextItem();
      if (!item) {
        exhausted = true;
        break;
      }
      const candidate = input.indexStatus === false || statusPasses(item, filters);
      round.push({ item, candidate });
      if (candidate) candidates++;
    }
    // Without document filters the lookahead candidate (the one past a full page) needs no read.
    const toRead = round
      .filter((r) => r.candidate)
      .slice(0, needsDocument ? undefined : pageSize - page.length)
      .map((r) => idOfEntry(r.item));
    const docs = await readDevices(toRead);
    for (const { item, candidate } of round) {
      const id = idOfEntry(item);
      const device = docs.get(id);
      const matches = candidate && (device ? matchesAll(device, filters) : !needsDocument && !toRead.includes(id));
      if (matches && page.length === pageSize) return { list: page, resumeAfter: lastExamined, budgetSpent: false };
      if (matches && device) {
        // A device that would pass the byte budget starts the next page.
        const bytes = pageWeight(deviceBytes(device));
        if ((page.length > 0 || !atLeastOne) && pageBytes + bytes > byteBudget && lastExamined !== undefined)
          return { list: page, resumeAfter: lastExamined, budgetSpent: false };
        pageBytes += bytes;
        page.push(device);
      }
      lastExamined = sortKeyOf(item);
    }
    if (exhausted) return { list: page, budgetSpent: false };
  }
}

/** Reads every item of an entry point (all partitions, no order), handing the matching devices' statuses to `count`. */
export async function visitEntry(
  input: Omit<ListEntryInput, 'index' | 'descending' | 'after' | 'pageSize' | 'byteBudget' | 'atLeastOne'> & {
    readByteBudget?: number;
    count: (status: string) => void;
    onBudgetSpent: () => never;
  },
): Promise<void> {
  const {
    prefixes,
    shards,
    filters,
    needsDocument,
    readBudget,
    readByteBudget = Number.POSITIVE_INFINITY,
    deadline = Number.POSITIVE_INFINITY,
    now = Date.now,
    count,
    onBudgetSpent,
  } = input;
  const reader = scopedReader(input.reader);
  const readDevices = slicedReader(reader, input.pause, input.crowded);
  const index = INDEXES.byCreated;
  let spent = false;
  let bytesRead = 0;
  // Every partition walk stops at its next step once one of them has spent a budget: items, bytes
  // of devices read (large metadata makes each item slower) or time.
  const checkBudget = () => {
    if (spent || reader.itemsRead > readBudget || bytesRead > readByteBudget || now() > deadline) {
      spent = true;
      onBudgetSpent();
    }
  };
  await Promise.all(
    prefixes.flatMap((prefix) =>
      Array.from({ length: shards }, async (_, s) => {
        let startKey: Item | undefined;
        do {
          checkBudget();
          const out = await reader.query({
            IndexName: index.name,
            KeyConditionExpression: '#p = :p',
            ExpressionAttributeNames: { '#p': index.partitionKey },
            ExpressionAttributeValues: { ':p': entryPartition(prefix, s) },
            Limit: 1000,
            ExclusiveStartKey: startKey,
          });
          const candidates = (out.Items ?? []).filter((item) => statusPasses(item, filters));
          if (!needsDocument) candidates.forEach((item) => count(item[STATUS_ATTRIBUTE] as string));
          else {
            checkBudget();
            const docs = await readDevices(candidates.map(idOfEntry));
            for (const device of docs.values()) {
              bytesRead += deviceBytes(device);
              if (matchesAll(device, filters)) count(device.status);
            }
          }
          startKey = out.LastEvaluatedKey;
        } while (startKey);
      }),
    ),
  );
  checkBudget();
}
