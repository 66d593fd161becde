/**
 * Where an in-memory engine keeps its stream records for the retention period: per table, in
 * sequence order, each as the JSON the store would hold. An engine with a data folder writes them
 * into its LevelDB batches instead, so that they survive a restart; an in-memory store survives
 * nothing, and its records cost it tree inserts (a quarter of a bulk import's store operations)
 * and the garbage of the persistent tree's copied paths. Reads answer what the store would: the
 * committed records after a sequence number, up to the watermark, parsed from their JSON.
 */
import type { ChangeRecord } from './change-feed';

interface Entry {
  sequenceNumber: string;
  /** Epoch seconds, as the record's `approximateCreationDateTime`. */
  createdSeconds: number;
  json: string;
}

/**
 * The index of the first of `entries` (in sequence order) with a sequence number above `after`
 * (fixed width: string order is number order).
 */
export function firstAbove(entries: readonly { sequenceNumber: string }[], after: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle]!.sequenceNumber <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

export class RecordLog {
  private readonly tables = new Map<string, Entry[]>();

  /** Records whose batch has committed, with their JSON (`jsons[i]` encodes `records[i]`). */
  append(records: readonly ChangeRecord[], jsons: readonly string[]): void {
    records.forEach((record, i) => {
      let entries = this.tables.get(record.tableName);
      if (!entries) {
        entries = [];
        this.tables.set(record.tableName, entries);
      }
      const entry = {
        sequenceNumber: record.sequenceNumber,
        createdSeconds: record.approximateCreationDateTime,
        json: jsons[i]!,
      };
      // Commits may complete out of sequence order; nearly always this one is the newest.
      const last = entries.at(-1);
      if (!last || last.sequenceNumber < entry.sequenceNumber) entries.push(entry);
      else entries.splice(firstAbove(entries, entry.sequenceNumber), 0, entry);
    });
  }

  /** Up to `limit` records of `tableName` above `after` (from the first when undefined) and at most `upTo`. */
  read(tableName: string, after: string | undefined, upTo: string, limit: number): ChangeRecord[] {
    const entries = this.tables.get(tableName) ?? [];
    const start = after === undefined ? 0 : firstAbove(entries, after);
    const found: ChangeRecord[] = [];
    for (let i = start; i < entries.length && found.length < limit; i++) {
      const entry = entries[i]!;
      if (entry.sequenceNumber > upTo) break;
      found.push(JSON.parse(entry.json) as ChangeRecord);
    }
    return found;
  }

  /** Drops the records created before `cutoffSeconds` (epoch seconds); returns how many. */
  trim(cutoffSeconds: number): number {
    let dropped = 0;
    for (const [table, entries] of this.tables) {
      // In sequence order, which is time order: stop at the first one kept.
      let count = 0;
      while (count < entries.length && entries[count]!.createdSeconds < cutoffSeconds) count++;
      if (count === 0) continue;
      dropped += count;
      if (count === entries.length) this.tables.delete(table);
      else this.tables.set(table, entries.slice(count));
    }
    return dropped;
  }
}
