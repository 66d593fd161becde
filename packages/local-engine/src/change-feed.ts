/**
 * Change feed: one record per item written, in commit order (the engine's DynamoDB Streams emulation).
 *
 * Stock dynalite writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem) are observed through two
 * hooks: `db.updateIndexes`, which every stock write action calls under the item lock with the old
 * and the new item, and the table store's `put`/`del`, which the engine turns into one LevelDB
 * batch of the item and its stream record. Transactions put the records of their writes
 * ({@link ChangeFeed.prepare}) into their own batch. The records stay in the store (the durable
 * stream, read by {@link ./stream-store}) and are pushed to listeners as they commit.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  db,
  itemDbPrefix,
  type BatchOperation,
  type ErrorCallback,
  type Store,
  type SubDb,
  type TableDescription,
  type WireItem,
  type WireValue,
} from './dynalite';
import { createKey } from './keys';
import type { RecordLog } from './record-log';

export interface ChangeRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  tableName: string;
  /** Wire format, e.g. `{ S: 'x' }`; binary values are base64 strings at runtime. */
  keys: Record<string, AttributeValue>;
  oldImage?: Record<string, AttributeValue>;
  newImage?: Record<string, AttributeValue>;
  /** Strictly increasing across the engine; zero-padded decimal so string order == numeric order. */
  sequenceNumber: string;
  /** Epoch seconds, rounded down (as DynamoDB Streams reports it). */
  approximateCreationDateTime: number;
}

/**
 * Receives the records of commits in sequence order. The records are shared by every listener (and
 * are already copies, not the store's items): read them, do not modify them.
 */
export type ChangeListener = (records: readonly ChangeRecord[]) => void;

/** One committed item write: no old item = created, no new item = deleted. */
export interface CommittedWrite {
  table: TableDescription;
  oldItem?: WireItem | null;
  newItem?: WireItem | null;
  /** `JSON.stringify(newItem)` when the writer already has it (its own store operation uses it too). */
  newItemJson?: string;
  /**
   * The images are the writer's own objects, parsed or built for this write and handed to no one else
   * (a transaction's): the record holds them instead of copies. Else (dynalite's stock writes, whose
   * items may be shared with a response) the record holds copies.
   */
  owned?: boolean;
}

/** A record, and its JSON as stored (built from the images' JSON, each item encoded once). */
interface EncodedRecord {
  record: ChangeRecord;
  json: string;
}

/** Length of a sequence number; AWS's are 21 to 40 digits. */
const SEQUENCE_DIGITS = 25;

// Symbol.for, not a module-local WeakMap: dynalite is loaded through Node's own require, so one
// dynalite instance may be shared by several copies of this module (jest loads one per test file).
const HOOKS = Symbol.for('device-manager.local-engine.store-hooks');
const PATCHED = Symbol.for('device-manager.local-engine.patched');

interface PendingWrite {
  table: TableDescription;
  oldItem: WireItem | undefined;
}

interface StoreHooks {
  feed: ChangeFeed;
  store: Store;
  /** Old item of a stock write between its index update and its item write, by table and item key. */
  pending: Map<string, PendingWrite>;
}

type Hooked<T> = T & { [HOOKS]?: StoreHooks; [PATCHED]?: true };

const pendingKey = (tableName: string, key: string): string => `${tableName}\u0000${key}`;

/** Where stream records live in the store: one key per record, by table, in sequence order. */
export const streamKeyPrefix = (tableName: string): string => `${STREAM_PREFIX}${tableName}~`;
const STREAM_PREFIX = 'engine~stream~';
export const streamKey = (tableName: string, sequenceNumber: string): string =>
  streamKeyPrefix(tableName) + sequenceNumber;
export const formatSequenceNumber = (value: bigint): string => value.toString().padStart(SEQUENCE_DIGITS, '0');

/**
 * Records given sequence numbers for a commit, and the store operations that persist them with it
 * (none when the feed keeps them in a {@link RecordLog}: `jsons` then holds their JSON for it).
 */
export interface PreparedRecords {
  records: ChangeRecord[];
  ops: BatchOperation[];
  jsons: string[];
}

/**
 * Sequence numbers, listeners and the commit watermark of one engine.
 *
 * A write's records get their sequence numbers *before* its LevelDB batch (the records are written
 * in that same batch), and batches of different items may complete out of order. The watermark is
 * the highest sequence number below which nothing is still being committed: readers of the stored
 * stream stop there, and listeners receive records in sequence order as it advances, so no reader
 * ever passes a record that is about to appear.
 */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private last: bigint;
  /** Sequence numbers handed out whose batch has not completed. */
  private readonly inFlight = new Set<bigint>();
  /** Committed records waiting for a lower sequence number still in flight, in sequence order. */
  private waiting: ChangeRecord[] = [];

  /**
   * @param emitUnchanged also emit MODIFY for writes that leave the item exactly as it was;
   *   DynamoDB Streams writes no record for those, so the default is false.
   * @param resumeAfter the last sequence number of a previous run on the same data (0 if unknown):
   *   numbers continue above it, or above the start time in milliseconds x 1,000,000 if that is
   *   higher.
   * @param log where committed records are kept (an in-memory engine's); without one they are
   *   written into the writes' own LevelDB batches.
   */
  constructor(
    private readonly emitUnchanged = false,
    resumeAfter = 0n,
    private readonly log?: RecordLog,
  ) {
    const clock = BigInt(Date.now()) * 1_000_000n;
    this.last = resumeAfter > clock ? resumeAfter : clock;
  }

  /** The last sequence number handed out (or, before the first record, the seed). */
  get lastSequenceNumber(): bigint {
    return this.last;
  }

  /** Every record with a sequence number up to this one is committed (or was abandoned). */
  get watermark(): string {
    let low = this.last;
    for (const sequence of this.inFlight) if (sequence - 1n < low) low = sequence - 1n;
    return formatSequenceNumber(low);
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Removes every listener (the engine is stopping). */
  clear(): void {
    this.listeners.clear();
  }

  /**
   * Builds the records of writes about to be committed and gives them sequence numbers; the
   * returned `ops` persist them and go into the writes' own LevelDB batch (none with a log). Follow
   * with {@link committed} or {@link abandoned} once the batch completes.
   */
  prepare(writes: CommittedWrite[]): PreparedRecords {
    const records: ChangeRecord[] = [];
    const ops: BatchOperation[] = [];
    const jsons: string[] = [];
    for (const write of writes) {
      const encoded = this.toRecord(write);
      if (!encoded) continue;
      records.push(encoded.record);
      if (this.log) jsons.push(encoded.json);
      else
        ops.push({
          type: 'put',
          key: streamKey(encoded.record.tableName, encoded.record.sequenceNumber),
          value: encoded.json,
          valueEncoding: 'utf8',
        });
    }
    return { records, ops, jsons };
  }

  /**
   * The batch holding these records has committed. Must be called before the writes' item locks are
   * released, so that the records of one item keep the commit order.
   */
  committed({ records, jsons }: PreparedRecords): void {
    this.log?.append(records, jsons);
    for (const record of records) {
      this.inFlight.delete(BigInt(record.sequenceNumber));
      this.waiting.push(record);
    }
    if (records.length > 0) this.release();
  }

  /** The batch failed: its records never existed (their sequence numbers are skipped). */
  abandoned({ records }: PreparedRecords): void {
    for (const record of records) this.inFlight.delete(BigInt(record.sequenceNumber));
    if (records.length > 0) this.release();
  }

  /** Emits the waiting records up to the watermark, in sequence order, grouped by commit as far as order allows. */
  private release(): void {
    const watermark = this.watermark;
    this.waiting.sort((a, b) => (a.sequenceNumber < b.sequenceNumber ? -1 : 1));
    let count = 0;
    while (count < this.waiting.length && this.waiting[count]!.sequenceNumber <= watermark) count++;
    if (count === 0) return;
    const ready = this.waiting.slice(0, count);
    this.waiting = this.waiting.slice(count);
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(ready);
      } catch (err) {
        // A failing consumer must not fail (or half-fail) the write that has already committed.
        console.error('[local-engine] change listener failed', err);
      }
    }
  }

  /** Starts observing the stock write actions of a dynalite store. */
  attach(store: Store): void {
    installUpdateIndexesHook();
    const hooked = store as Hooked<Store>;
    hooked[HOOKS] = { feed: this, pending: new Map(), store };
    const getItemDb = store.getItemDb;
    store.getItemDb = (name: string) => {
      const subDb = getItemDb.call(store, name) as Hooked<SubDb>;
      if (!subDb[PATCHED]) patchItemDb(subDb, name, hooked[HOOKS]!);
      return subDb;
    };
  }

  private toRecord({ table, oldItem, newItem, newItemJson, owned }: CommittedWrite): EncodedRecord | undefined {
    const source = newItem ?? oldItem;
    if (!source) return undefined; // deleting an item that does not exist writes nothing
    if (oldItem && newItem && !this.emitUnchanged && itemsEqual(oldItem, newItem)) return undefined;
    const keys: WireItem = {};
    for (const { AttributeName } of table.KeySchema) {
      const value = source[AttributeName];
      if (value) keys[AttributeName] = value;
    }
    this.last += 1n;
    this.inFlight.add(this.last);
    // Each image is encoded once: its JSON is both the record's stored form and the source of the
    // listeners' copy (dynalite's items are prototype-less and may be shared with a response).
    const keysJson = JSON.stringify(keys);
    const oldJson = oldItem ? JSON.stringify(oldItem) : undefined;
    const newJson = newItem ? (newItemJson ?? JSON.stringify(newItem)) : undefined;
    const copy = (json: string, item: WireItem) => (owned ? item : JSON.parse(json)) as ChangeRecord['keys'];
    const uuid = randomUUID();
    const record: ChangeRecord = {
      eventID: uuid.slice(0, 8) + uuid.slice(9, 13) + uuid.slice(14, 18) + uuid.slice(19, 23) + uuid.slice(24),
      eventName: !oldItem ? 'INSERT' : !newItem ? 'REMOVE' : 'MODIFY',
      tableName: table.TableName,
      keys: copy(keysJson, keys),
      ...(oldJson ? { oldImage: copy(oldJson, oldItem!) } : {}),
      ...(newJson ? { newImage: copy(newJson, newItem!) } : {}),
      sequenceNumber: formatSequenceNumber(this.last),
      approximateCreationDateTime: Math.floor(Date.now() / 1000),
    };
    // The same members, in the same order, as JSON.stringify(record) writes them.
    const json =
      `{"eventID":"${record.eventID}","eventName":"${record.eventName}",` +
      `"tableName":${JSON.stringify(record.tableName)},"keys":${keysJson}` +
      (oldJson ? `,"oldImage":${oldJson}` : '') +
      (newJson ? `,"newImage":${newJson}` : '') +
      `,"sequenceNumber":"${record.sequenceNumber}",` +
      `"approximateCreationDateTime":${record.approximateCreationDateTime}}`;
    return { record, json };
  }
}

/** Wraps `db.updateIndexes` once per dynalite instance to note the old item of every stock write. */
function installUpdateIndexesHook(): void {
  const module = db as Hooked<typeof db>;
  if (module[PATCHED]) return;
  const original = db.updateIndexes;
  db.updateIndexes = function updateIndexes(store, table, existingItem, item, cb) {
    const hooks = (store as Hooked<Store>)[HOOKS];
    const source = item ?? existingItem;
    // Stores without hooks are the engine's own stand-in stores (transactions report their writes).
    if (!hooks || !source) return original(store, table, existingItem, item, cb);
    const key = pendingKey(table.TableName, createKey(source, table));
    hooks.pending.set(key, { table, oldItem: existingItem ?? undefined });
    original(store, table, existingItem, item, (err) => {
      if (err) hooks.pending.delete(key);
      cb(err);
    });
  };
  module[PATCHED] = true;
}

/**
 * Makes a stock write's item `put`/`del` one LevelDB batch with its stream record (the record is
 * built from the old item noted by the index hook), and reports the commit before the item lock is
 * released.
 */
function patchItemDb(subDb: Hooked<SubDb>, tableName: string, hooks: StoreHooks): void {
  const put = subDb.put;
  const del = subDb.del;
  const write = (key: string, newItem: WireItem | undefined, cb: ErrorCallback, plain: () => void) => {
    const pending = hooks.pending.get(pendingKey(tableName, key));
    hooks.pending.delete(pendingKey(tableName, key));
    const prepared = pending
      ? hooks.feed.prepare([{ table: pending.table, oldItem: pending.oldItem, newItem }])
      : undefined;
    if (!prepared || prepared.records.length === 0) {
      plain();
      return;
    }
    const itemKey = itemDbPrefix(tableName) + key;
    const itemOp: BatchOperation = newItem
      ? { type: 'put', key: itemKey, value: newItem }
      : { type: 'del', key: itemKey };
    hooks.store.db.batch([itemOp, ...prepared.ops], (err) => {
      if (err) hooks.feed.abandoned(prepared);
      else hooks.feed.committed(prepared);
      cb(err);
    });
  };
  subDb.put = (key, value, cb) => write(key, value, cb, () => put.call(subDb, key, value, cb));
  subDb.del = (key, cb) => write(key, undefined, cb, () => del.call(subDb, key, cb));
  subDb[PATCHED] = true;
}

/** Deep equality of two items in wire format; sets compare regardless of order. */
export function itemsEqual(a: WireItem, b: WireItem): boolean {
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((name) => {
    const other = b[name];
    const value = a[name];
    return other !== undefined && value !== undefined && valuesEqual(value, other);
  });
}

function valuesEqual(a: WireValue, b: WireValue): boolean {
  const [typeA] = Object.keys(a);
  const [typeB] = Object.keys(b);
  if (typeA === undefined || typeA !== typeB) return false;
  const x = a[typeA];
  const y = b[typeA];
  switch (typeA) {
    case 'SS':
    case 'NS':
    case 'BS': {
      const setA = x as string[];
      const setB = y as string[];
      return setA.length === setB.length && setA.every((member) => setB.includes(member));
    }
    case 'L': {
      const listA = x as WireValue[];
      const listB = y as WireValue[];
      return listA.length === listB.length && listA.every((member, i) => valuesEqual(member, listB[i]!));
    }
    case 'M':
      return itemsEqual(x as WireItem, y as WireItem);
    default:
      return x === y;
  }
}
