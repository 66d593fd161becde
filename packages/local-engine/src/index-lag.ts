/**
 * Index-lag mode (ENGINE_INDEX_LAG_MS, option `indexLagMs`): a Query on a global secondary index
 * sees an index entry only `lag` ms after the write that put it there, as DynamoDB's eventually
 * consistent GSIs may. dynalite updates its indexes in the write itself (strongly consistent reads);
 * with this mode, code that looks an item up through a GSI right after writing it finds nothing, as
 * it can in AWS, so a test can show that the caller copes (retries) instead of assuming otherwise.
 *
 * How: every committed write of the change feed (stock writes and transactions alike) is noted with
 * its time, old and new item. A GSI Query skips an entry whose index key was set (the item created,
 * or its key attributes changed) by a write younger than the lag. Local secondary indexes and base
 * table reads are not affected (both are strongly consistent in DynamoDB when asked). Gaps: an entry
 * removed or moved by a write disappears from its old place at once (DynamoDB may still show it),
 * and projected attributes of an entry already visible change at once.
 */
import { Transform, pipeline } from 'node:stream';
import type { ChangeFeed, ChangeRecord } from './change-feed';
import { db, type Store, type TableDescription, type WireItem } from './dynalite';

interface RecentWrite {
  at: number;
  oldImage?: WireItem;
  newImage?: WireItem;
}

interface LagState {
  lagMs: number;
  now: () => number;
  /** Writes younger than the lag, by table and item key; the map's order is the order of each key's last write. */
  recent: Map<string, RecentWrite[]>;
}

// Symbol.for: dynalite is loaded through Node's own require and may be shared by several copies of this module.
const STATE = Symbol.for('device-manager.local-engine.index-lag');
const PATCHED = Symbol.for('device-manager.local-engine.index-lag.patched');

type WithLag<T> = T & { [STATE]?: LagState };

/** The item's key within its table, as a string; the same for a change record's keys and an index entry. */
function itemKey(tableName: string, keyNames: readonly string[], item: Record<string, unknown>): string {
  return `${tableName}\u0000${[...keyNames]
    .sort()
    .map((name) => `${name}=${JSON.stringify(item[name] ?? null)}`)
    .join('\u0000')}`;
}

const indexKeyOf = (item: WireItem | undefined, names: readonly string[]): string | undefined =>
  item && names.every((n) => item[n] !== undefined) ? JSON.stringify(names.map((n) => item[n])) : undefined;

/**
 * Turns the mode on for one engine's store. `now` is the clock that ages the writes (tests move it).
 * Returns the function that stops noting writes.
 */
export function installIndexLag(
  store: Store,
  feed: ChangeFeed,
  lagMs: number,
  now: () => number = Date.now,
): () => void {
  if (!(Number.isInteger(lagMs) && lagMs >= 0))
    throw new RangeError(`indexLagMs must be a non-negative integer, got ${lagMs}`);
  if (lagMs === 0) return () => undefined;
  installQueryPatch();
  const state: LagState = { lagMs, now, recent: new Map() };
  (store as WithLag<Store>)[STATE] = state;
  return feed.subscribe((records: readonly ChangeRecord[]) => {
    const at = state.now();
    for (const record of records) {
      const key = itemKey(record.tableName, Object.keys(record.keys), record.keys);
      const writes = state.recent.get(key) ?? [];
      writes.push({
        at,
        ...(record.oldImage ? { oldImage: record.oldImage as unknown as WireItem } : {}),
        ...(record.newImage ? { newImage: record.newImage as unknown as WireItem } : {}),
      });
      // Re-inserted: the map stays ordered by each key's last write, so pruning stops at the first young one.
      state.recent.delete(key);
      state.recent.set(key, writes);
    }
    prune(state);
  });
}

function prune(state: LagState): void {
  const horizon = state.now() - state.lagMs;
  for (const [key, writes] of state.recent) {
    if (writes.at(-1)!.at > horizon) break;
    state.recent.delete(key);
  }
}

/** Whether a GSI entry is still invisible: a write younger than the lag gave the item this index key. */
function hidden(state: LagState, table: TableDescription, indexKeyNames: readonly string[], entry: WireItem): boolean {
  const writes = state.recent.get(
    itemKey(
      table.TableName,
      table.KeySchema.map((k) => k.AttributeName),
      entry,
    ),
  );
  if (!writes) return false;
  const horizon = state.now() - state.lagMs;
  const current = indexKeyOf(entry, indexKeyNames);
  return writes.some(
    (w) =>
      w.at > horizon &&
      indexKeyOf(w.newImage, indexKeyNames) === current &&
      indexKeyOf(w.oldImage, indexKeyNames) !== current,
  );
}

/**
 * Wraps dynalite's `db.queryTable` (which its Query action calls through the module) once: for a
 * store in lag mode and a global index, the index's value stream is filtered before dynalite counts,
 * limits and pages it, so Limit and LastEvaluatedKey behave as over an index that lacks the entries.
 */
function installQueryPatch(): void {
  const module = db as typeof db & { [PATCHED]?: true; queryTable: QueryTable };
  if (module[PATCHED]) return;
  const original = module.queryTable;
  module.queryTable = function queryTable(store, table, data, opts, isLocal, fetchFromItemDb, startKeyNames, cb) {
    const state = (store as WithLag<Store>)[STATE];
    const index =
      data.IndexName && !isLocal
        ? table.GlobalSecondaryIndexes?.find((i) => i.IndexName === data.IndexName)
        : undefined;
    if (!state || !index)
      return original.call(this, store, table, data, opts, isLocal, fetchFromItemDb, startKeyNames, cb);
    prune(state);
    const names = index.KeySchema.map((k) => k.AttributeName);
    const view: Store = Object.create(store) as Store;
    view.getIndexDb = (type, tableName, indexName) => {
      const indexDb = store.getIndexDb(type, tableName, indexName) as ReturnType<Store['getIndexDb']> & {
        createValueStream(o: unknown): NodeJS.ReadableStream;
      };
      return Object.assign(Object.create(indexDb) as typeof indexDb, {
        createValueStream(options: unknown) {
          const visible = new Transform({
            objectMode: true,
            transform(entry: WireItem, _encoding, done) {
              done(null, hidden(state, table, names, entry) ? undefined : entry);
            },
          });
          return pipeline(indexDb.createValueStream(options), visible, () => undefined);
        },
      });
    };
    return original.call(this, view, table, data, opts, isLocal, fetchFromItemDb, startKeyNames, cb);
  };
  module[PATCHED] = true;
}

type QueryTable = (
  this: unknown,
  store: Store,
  table: TableDescription,
  data: Record<string, any>,
  opts: unknown,
  isLocal: boolean,
  fetchFromItemDb: boolean,
  startKeyNames: string[],
  cb: (err: unknown, result?: unknown) => void,
) => void;
