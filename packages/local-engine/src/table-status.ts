/**
 * Table status changes "at once".
 *
 * dynalite answers CreateTable, UpdateTable and DeleteTable while the table is still CREATING,
 * UPDATING or DELETING, and writes the final state (ACTIVE, or the table deleted) later, from a
 * timer, even with createTableMs/updateTableMs/deleteTableMs at 0. A request sent as soon as the
 * CreateTable answer arrives can then still find the table CREATING and fail with
 * ResourceNotFoundException ("Requested resource not found"), which a loaded machine does
 * routinely. The engine holds a successful answer to these three operations until the table has
 * settled: ACTIVE with every GSI ACTIVE, or gone. The answer itself is dynalite's, unchanged
 * (CreateTable reports CREATING, as DynamoDB does).
 */
import type { ServerResponse } from 'node:http';
import { call, type ErrorCallback, type Store, type TableDescription, type WireItem } from './dynalite';

const TABLE_OPERATIONS = new Set(['CreateTable', 'UpdateTable', 'DeleteTable']);

/** Whether an `X-Amz-Target` names CreateTable, UpdateTable or DeleteTable. */
export function isTableOperation(target: unknown): boolean {
  return typeof target === 'string' && TABLE_OPERATIONS.has(target.slice(target.indexOf('.') + 1));
}

/** Watches the table descriptions of one store. */
export class TableStatus {
  /** Callbacks waiting for the next completed write (put or delete) of a table description, by table name. */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly store: Store) {
    const tableDb = store.tableDb;
    const put = tableDb.put;
    const del = tableDb.del;
    tableDb.put = (key, value, cb) => put.call(tableDb, key, value, this.afterWrite(key, cb));
    tableDb.del = (key, cb) => del.call(tableDb, key, this.afterWrite(key, cb));
  }

  /**
   * Holds the answer dynalite is about to send on `res`, if it is a success describing a table,
   * until that table has settled (see {@link settled}).
   */
  holdAnswer(res: ServerResponse): void {
    const writable = res as unknown as { end: (...args: unknown[]) => ServerResponse };
    const end = writable.end;
    writable.end = (...args: unknown[]) => {
      const name = res.statusCode === 200 ? describedTable(args[0]) : undefined;
      if (name === undefined) return end.apply(res, args);
      void this.settled(name).then(() => end.apply(res, args));
      return res;
    };
  }

  /**
   * Resolves once the table is ACTIVE with every GSI ACTIVE, or does not exist, or its description
   * cannot be read (e.g. the store is closing). Never rejects.
   */
  async settled(name: string): Promise<void> {
    for (;;) {
      // Listen before reading, so that a write completing in between is not missed.
      let written!: () => void;
      const nextWrite = new Promise<void>((resolve) => (written = resolve));
      this.listen(name, written);
      let table: TableDescription | undefined;
      try {
        table = (await call<WireItem | undefined>((cb) => this.store.tableDb.get(name, cb))) as
          | TableDescription
          | undefined;
      } catch {
        table = undefined;
      }
      if (!table || typeof table !== 'object' || isSettled(table)) {
        this.unlisten(name, written);
        return;
      }
      await nextWrite; // dynalite's timer writes the final state
    }
  }

  private afterWrite(name: string, cb: ErrorCallback): ErrorCallback {
    return (err) => {
      const waiting = this.waiters.get(name);
      this.waiters.delete(name);
      cb(err);
      waiting?.forEach((resolve) => resolve());
    };
  }

  private listen(name: string, resolve: () => void): void {
    const waiting = this.waiters.get(name) ?? new Set();
    waiting.add(resolve);
    this.waiters.set(name, waiting);
  }

  private unlisten(name: string, resolve: () => void): void {
    const waiting = this.waiters.get(name);
    waiting?.delete(resolve);
    if (waiting?.size === 0) this.waiters.delete(name);
  }
}

function isSettled(table: TableDescription): boolean {
  return (
    table.TableStatus === 'ACTIVE' &&
    (table.GlobalSecondaryIndexes ?? []).every((index) => (index.IndexStatus ?? 'ACTIVE') === 'ACTIVE')
  );
}

/** The TableName of a `{ TableDescription }` answer body, if it is one. */
function describedTable(body: unknown): string | undefined {
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return undefined;
  try {
    const name = (JSON.parse(body.toString()) as { TableDescription?: { TableName?: unknown } }).TableDescription
      ?.TableName;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
