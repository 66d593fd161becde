/**
 * The durable stream: the change records the engine keeps in its store (written in the same LevelDB
 * batch as the write they describe; an in-memory engine keeps them in a {@link RecordLog} instead),
 * read in sequence order per table, trimmed after the retention period (24 hours, as DynamoDB
 * Streams), plus named consumer checkpoints.
 */
import type { ChangeFeed, ChangeRecord } from './change-feed';
import { streamKey, streamKeyPrefix } from './change-feed';
import type { Store } from './dynalite';
import type { RecordLog } from './record-log';
import { StreamTail, TAIL_SECONDS } from './stream-tail';

/** DynamoDB Streams keeps records for 24 hours. */
export const DEFAULT_STREAM_RETENTION_MS = 24 * 60 * 60 * 1000;
const CHECKPOINT_PREFIX = 'engine~checkpoint~';
const TABLE_PREFIX = 'table~';
/** Keys deleted per batch when trimming. */
const TRIM_BATCH = 1000;

/** The stored stream of an engine's tables. */
export interface DurableStream {
  /**
   * Up to `limit` records of `tableName` with a sequence number above `after` (from the oldest kept
   * record when undefined), in sequence order, up to the last fully committed one. Recent records
   * are the ones the change listeners got (shared with them and other readers): read them, do not
   * modify them.
   */
  read(tableName: string, after: string | undefined, limit: number): Promise<ChangeRecord[]>;
  /**
   * The sequence number below which every record committed so far has a lower number (records still being committed
   * lie above it).
   */
  watermark(): string;
  /** The last sequence number a consumer saved, if any. */
  checkpoint(consumer: string): Promise<string | undefined>;
  /** Saves a consumer's position (the last sequence number it has handled). */
  saveCheckpoint(consumer: string, sequenceNumber: string): Promise<void>;
  /**
   * Deletes the records older than the retention period (as of `now`, default the clock); resolves to how many were
   * deleted. The copies kept in memory of records older than a minute are dropped too.
   */
  trim(now?: number): Promise<number>;
  /**
   * How many reads the newest records kept in memory answered, and how many the store (or an
   * in-memory engine's record log) did (a copy; see ./stream-tail.ts).
   */
  readonly reads: StreamReads;
}

export interface StreamReads {
  memory: number;
  store: number;
}

type Entry = [string, unknown];

interface Iterable {
  iterator(options: Record<string, unknown>): { all(): Promise<Entry[]>; close(): Promise<void> };
}

function entries(store: Store, options: Record<string, unknown>): Promise<Entry[]> {
  return (store.db as unknown as Iterable).iterator(options).all();
}

async function tableNames(store: Store): Promise<string[]> {
  const found = await entries(store, { gt: TABLE_PREFIX, lt: `${TABLE_PREFIX}\xff`, values: false });
  return found.map(([key]) => key.slice(TABLE_PREFIX.length));
}

/** The highest sequence number stored in the stream of any table (0 if none). */
export async function lastStoredSequenceNumber(store: Store): Promise<bigint> {
  let last = 0n;
  for (const table of await tableNames(store)) {
    const prefix = streamKeyPrefix(table);
    const [entry] = await entries(store, { gt: prefix, lt: `${prefix}\xff`, reverse: true, limit: 1, values: false });
    if (entry) {
      const sequence = BigInt(entry[0].slice(prefix.length));
      if (sequence > last) last = sequence;
    }
  }
  return last;
}

/**
 * @param log where the feed keeps the records (an in-memory engine's; the same log the feed was given),
 *   or undefined when they are in the store.
 */
export function durableStream(store: Store, feed: ChangeFeed, retentionMs: number, log?: RecordLog): DurableStream {
  // Listening before any stream feed does: a feed woken by a commit finds its records in the tail.
  const tail = new StreamTail(feed.watermark);
  feed.subscribe((records) => tail.add(records));
  const reads: StreamReads = { memory: 0, store: 0 };
  return {
    async read(tableName, after, limit) {
      const kept = tail.read(tableName, after, limit);
      if (kept) {
        reads.memory++;
        return kept;
      }
      reads.store++;
      if (log) return log.read(tableName, after, feed.watermark, limit);
      const prefix = streamKeyPrefix(tableName);
      const found = await entries(store, {
        ...(after ? { gt: streamKey(tableName, after) } : { gt: prefix }),
        lte: streamKey(tableName, feed.watermark),
        limit,
        keys: false,
      });
      return found.map(([, value]) => value as ChangeRecord);
    },
    watermark: () => feed.watermark,
    async checkpoint(consumer) {
      const saved = await store.db.get(CHECKPOINT_PREFIX + consumer);
      return typeof saved === 'string' ? saved : undefined;
    },
    async saveCheckpoint(consumer, sequenceNumber) {
      await store.db.put(CHECKPOINT_PREFIX + consumer, sequenceNumber);
    },
    async trim(now = Date.now()) {
      const cutoffSeconds = Math.floor((now - retentionMs) / 1000);
      // The records in memory go before the stored ones, and much sooner (their memory is the cost).
      tail.trim(Math.max(cutoffSeconds, Math.floor(now / 1000) - TAIL_SECONDS));
      if (log) return log.trim(cutoffSeconds);
      let deleted = 0;
      for (const table of await tableNames(store)) {
        const prefix = streamKeyPrefix(table);
        for (;;) {
          const batch = await entries(store, { gt: prefix, lt: `${prefix}\xff`, limit: TRIM_BATCH });
          const old = batch.filter(([, value]) => (value as ChangeRecord).approximateCreationDateTime < cutoffSeconds);
          if (old.length > 0) await store.db.batch(old.map(([key]) => ({ type: 'del' as const, key })));
          deleted += old.length;
          // Records are in sequence order, which is time order: stop at the first one kept.
          if (old.length < batch.length || batch.length < TRIM_BATCH) break;
        }
      }
      return deleted;
    },
    get reads() {
      return { ...reads };
    },
  };
}
