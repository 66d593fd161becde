/**
 * Conflict emulation (`conflicts: 'emulate'`, ENGINE_CONFLICTS=emulate of the local service).
 *
 * DynamoDB does not queue requests on an item that a transaction is writing: it rejects them
 * (developer guide, _Transaction conflict handling in DynamoDB_):
 * - an item of a `TransactWriteItems` that is part of another ongoing `TransactWriteItems` cancels
 *   the newcomer: `TransactionCanceledException`, reason `TransactionConflict` for that action;
 * - a `PutItem`, `UpdateItem` or `DeleteItem` on an item of an ongoing `TransactWriteItems` fails
 *   with `TransactionConflictException`;
 * - an item of a `TransactGetItems` that is part of an ongoing `TransactWriteItems` cancels it.
 * By default the engine serialises these requests on its item locks instead, so no local run can
 * see a hot item. This module keeps the items of the transactions in flight and rejects the way
 * DynamoDB does; a transaction is "ongoing" from the moment it is validated until it commits or is
 * cancelled, and at least one event-loop turn.
 */
import type { DynaliteError, Store, SubDb } from './dynalite';

export type ConflictMode = 'serialise' | 'emulate';

/** How many requests conflict emulation turned away since the engine started. */
export interface ConflictCounts {
  /** TransactWriteItems cancelled with a TransactionConflict reason (injected ones included). */
  transactionsCancelled: number;
  /** TransactGetItems cancelled with a TransactionConflict reason. */
  readsCancelled: number;
  /** PutItem / UpdateItem / DeleteItem (also inside BatchWriteItem) failed with TransactionConflictException. */
  writesRejected: number;
}

export const CONFLICT_MESSAGE = 'Transaction is ongoing for the item';

const NS = 'com.amazonaws.dynamodb.v20120810#';

/** The local service's `ENGINE_CONFLICTS`: unset or `serialise` (the default), or `emulate`. */
export function conflictModeFrom(value: string | undefined): ConflictMode {
  if (value === undefined || value === '' || value === 'serialise') return 'serialise';
  if (value === 'emulate') return 'emulate';
  throw new RangeError(`ENGINE_CONFLICTS must be 'emulate' or 'serialise', got '${value}'`);
}

/**
 * The engine options of the local service's `ENGINE_CONFLICTS` and `ENGINE_CONFLICT_WINDOW_MS` (a
 * non-negative integer, default 0); a bad value throws.
 */
export function conflictOptionsFrom(env: Record<string, string | undefined>): {
  conflicts: ConflictMode;
  conflictWindowMs: number;
} {
  const conflicts = conflictModeFrom(env.ENGINE_CONFLICTS);
  const window = env.ENGINE_CONFLICT_WINDOW_MS ?? '';
  if (!/^\d{0,5}$/.test(window)) {
    throw new RangeError(`ENGINE_CONFLICT_WINDOW_MS must be a whole number of milliseconds, got '${window}'`);
  }
  return { conflicts, conflictWindowMs: Number(window) };
}

/** The item's identity across tables: dynalite's key string under its table's name. */
export const itemId = (tableName: string, key: string): string => `${tableName}\u0000${key}`;

/** The items of the transactions in flight, and the counts of what was turned away. */
export class ConflictTracker {
  readonly counts: ConflictCounts = { transactionsCancelled: 0, readsCancelled: 0, writesRejected: 0 };
  private readonly ongoing = new Set<string>();

  /**
   * @param mode 'emulate' to reject, 'serialise' to track nothing.
   * @param windowMs how long a transaction stays in flight at least (0: one event-loop turn).
   */
  constructor(
    readonly mode: ConflictMode,
    private readonly windowMs = 0,
  ) {
    if (!(Number.isInteger(windowMs) && windowMs >= 0))
      throw new RangeError(`conflictWindowMs must be a non-negative integer, got ${windowMs}`);
  }

  get emulating(): boolean {
    return this.mode === 'emulate';
  }

  /** For each item, whether an ongoing TransactWriteItems holds it (always false when not emulating). */
  conflicting(ids: readonly string[]): boolean[] {
    return ids.map((id) => this.emulating && this.ongoing.has(id));
  }

  /**
   * Runs `body` as an ongoing transaction over `ids`. Call it in the same synchronous step as
   * {@link conflicting}, so that no other request can slip in between the check and the claim.
   */
  async during<T>(ids: readonly string[], body: () => Promise<T>): Promise<T> {
    if (!this.emulating) return body();
    for (const id of ids) this.ongoing.add(id);
    try {
      // DynamoDB runs a transaction in two phases (prepare, then commit), so it is in flight for
      // milliseconds; here, on an in-memory store, a transaction could run from claim to commit in
      // one microtask queue, and no other request would ever see it. At least one event-loop turn
      // lets the requests that arrived meanwhile run into it.
      await new Promise<void>((resolve) =>
        this.windowMs > 0 ? setTimeout(resolve, this.windowMs) : setImmediate(resolve),
      );
      return await body();
    } finally {
      for (const id of ids) this.ongoing.delete(id);
    }
  }

  holds(tableName: string, key: string): boolean {
    return this.emulating && this.ongoing.has(itemId(tableName, key));
  }
}

const PATCHED = Symbol.for('device-manager.local-engine.write-conflicts');
type Patched<T> = T & { [PATCHED]?: true };

/**
 * Makes the single-item writes of one store fail with TransactionConflictException on an item of an
 * ongoing transaction, at once instead of waiting for its lock. dynalite's PutItem, UpdateItem and
 * DeleteItem (BatchWriteItem runs them too) are the only callers of an item table's `lock` with one
 * key (transactions lock arrays of keys), and each reads the item with `get` synchronously inside the
 * lock callback: a rejected write gets the exception from that read, which the action answers.
 */
export function installWriteConflicts(store: Store, tracker: ConflictTracker): void {
  if (!tracker.emulating) return;
  const getItemDb = store.getItemDb;
  store.getItemDb = (name: string) => {
    const subDb = getItemDb.call(store, name) as Patched<SubDb>;
    if (!subDb[PATCHED]) patchItemDb(subDb, name, tracker);
    return subDb;
  };
}

function patchItemDb(subDb: Patched<SubDb>, tableName: string, tracker: ConflictTracker): void {
  const lock = subDb.lock;
  const get = subDb.get;
  let rejecting: string | undefined;
  subDb.lock = (key, exec) => {
    if (typeof key !== 'string' || !tracker.holds(tableName, key)) return lock.call(subDb, key, exec);
    tracker.counts.writesRejected++;
    rejecting = key;
    try {
      exec((done) => done);
    } finally {
      rejecting = undefined;
    }
  };
  subDb.get = (key, cb) => {
    if (rejecting === undefined || rejecting !== key) return get.call(subDb, key, cb);
    rejecting = undefined;
    // dynalite answers asynchronously; so does the rejection.
    setImmediate(() => cb(transactionConflictException()));
  };
  subDb[PATCHED] = true;
}

function transactionConflictException(): DynaliteError {
  const err: DynaliteError = new Error(CONFLICT_MESSAGE);
  err.statusCode = 400;
  err.body = { __type: `${NS}TransactionConflictException`, message: CONFLICT_MESSAGE };
  return err;
}
