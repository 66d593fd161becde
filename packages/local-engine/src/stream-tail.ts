/**
 * The newest change records of each table, kept in memory as the change feed releases them, so that
 * a stream feed that keeps up reads them without iterating the store and parsing each record's JSON
 * again (in a bulk import, about a twentieth of the engine's thread). The store stays the durable
 * copy and the reference: the tail only answers a read whose every record it holds, that is a read
 * after a sequence number at or above the tail's start; any other read (a consumer's first read,
 * one resuming from a checkpoint of an earlier run, one more than {@link TAIL_RECORDS} behind) goes
 * to the store, and gets the same records.
 */
import type { ChangeRecord } from './change-feed';
import { firstAbove } from './record-log';

/**
 * Records kept per table (each table's newest); a reader further behind reads the store. A bulk
 * import's stream feeds stay within a second or two of the writes (2,000 to 5,000 records on a loaded machine).
 */
export const TAIL_RECORDS = 10_000;
/** Records older than this are not kept either (the engine's minute trim drops them): an idle engine holds none. */
export const TAIL_SECONDS = 60;

interface TableTail {
  /** Every record of the table above this sequence number is in `records` (once released). */
  from: string;
  /** In sequence order, all released (at or below the watermark when they were added). */
  records: ChangeRecord[];
}

export class StreamTail {
  private readonly tables = new Map<string, TableTail>();

  /**
   * @param from the watermark when the tail starts listening: every record above it is released
   *   to the tail later, in sequence order (the change feed's order).
   * @param capacity records kept per table.
   */
  constructor(
    private readonly from: string,
    private readonly capacity = TAIL_RECORDS,
  ) {}

  /** The change feed's listener: records of any tables, in sequence order. */
  add(records: readonly ChangeRecord[]): void {
    for (const record of records) {
      let tail = this.tables.get(record.tableName);
      if (!tail) {
        tail = { from: this.from, records: [] };
        this.tables.set(record.tableName, tail);
      }
      tail.records.push(record);
    }
    // Past the capacity, half of it is kept: dropping is then one copy per half a capacity of records.
    for (const tail of this.tables.values())
      if (tail.records.length > this.capacity) this.drop(tail, tail.records.length - Math.floor(this.capacity / 2));
  }

  /**
   * Up to `limit` records of `tableName` after `after`, or undefined when the tail may not hold all
   * of them (the store answers then).
   */
  read(tableName: string, after: string | undefined, limit: number): ChangeRecord[] | undefined {
    if (after === undefined) return undefined;
    const tail = this.tables.get(tableName);
    if (after < (tail?.from ?? this.from)) return undefined;
    if (!tail) return [];
    const start = firstAbove(tail.records, after);
    return tail.records.slice(start, start + limit);
  }

  /** Forgets the records older than `cutoffSeconds` (epoch seconds). */
  trim(cutoffSeconds: number): void {
    for (const tail of this.tables.values()) {
      let count = 0;
      while (count < tail.records.length && tail.records[count]!.approximateCreationDateTime < cutoffSeconds) count++;
      this.drop(tail, count);
    }
  }

  private drop(tail: TableTail, count: number): void {
    if (count <= 0) return;
    tail.from = tail.records[count - 1]!.sequenceNumber;
    tail.records = tail.records.slice(count);
  }
}
