/**
 * Typed boundary around dynalite's internal modules.
 *
 * dynalite (pinned to an exact version in package.json, because everything here depends on its
 * internals) has no `exports` map, so its store factory, validators and actions can be required
 * directly. They are untyped: this file declares the minimal shapes the engine relies on, and is
 * the only place where `any` crosses into the engine.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';

// A Node require (not jest's module registry): the engine patches dynalite's `db` module, and every
// piece of dynalite must see the same module instance as the patches.
const load = createRequire(__filename);

/** An attribute value in DynamoDB JSON wire format, e.g. `{ S: 'x' }` (binary values are base64 strings). */
export type WireValue = Record<string, unknown>;
/** An item or key in wire format. dynalite's own items may have a null prototype. */
export type WireItem = Record<string, WireValue>;

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

export interface IndexDescription {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
  /** GSIs only. */
  IndexStatus?: string;
}

export interface TableDescription {
  TableName: string;
  TableStatus: string;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  GlobalSecondaryIndexes?: IndexDescription[];
  LocalSecondaryIndexes?: IndexDescription[];
}

/** dynalite's error convention: an Error carrying the HTTP status and the JSON body to send. */
export interface DynaliteError extends Error {
  statusCode?: number;
  body?: { __type: string; message?: string; Message?: string };
}

export type ErrorCallback = (err?: DynaliteError | null) => void;
export type ValueCallback<T> = (err: DynaliteError | null | undefined, value?: T) => void;

/** `lock` package: lock one key or an array of keys; `release(cb)` wraps a callback that releases first. */
export type LockFn = (
  key: string | string[],
  exec: (release: <F extends (...args: never[]) => unknown>(done: F) => F) => void,
) => void;

/** One of dynalite's prefixed views of the main LevelDB (one per table, per index, ...). */
export interface SubDb {
  lock: LockFn;
  get(key: string, cb: ValueCallback<WireItem | undefined>): void;
  put(key: string, value: WireItem, cb: ErrorCallback): void;
  del(key: string, cb: ErrorCallback): void;
}

export interface BatchOperation {
  type: 'put' | 'del';
  key: string;
  /** An item, JSON-encoded by the store; or, with `valueEncoding: 'utf8'`, its JSON already encoded. */
  value?: WireItem | string;
  valueEncoding?: 'utf8';
}

/** The main LevelDB (abstract-level), as wrapped by dynalite with callback-style methods. */
export interface MainDb {
  open(): Promise<void>;
  /** Without a callback, the tracked promise; resolves undefined when the key is missing. */
  get(key: string): Promise<unknown>;
  /** Without a callback, the tracked promise (a graceful close waits for it). */
  put(key: string, value: unknown): Promise<void>;
  /** With a callback, dynalite answers on a later turn (setImmediate); without, it returns the tracked promise. */
  batch(ops: BatchOperation[], cb: ErrorCallback): void;
  batch(ops: BatchOperation[]): Promise<void>;
  /** abstract-level's multi-get (not wrapped by dynalite): values in key order, undefined when missing. */
  getMany(keys: string[]): Promise<(WireItem | undefined)[]>;
  /** Graceful close (waits for tracked operations). */
  close(cb: ErrorCallback): void;
  status: string;
}

export interface Store {
  options: { maxItemSize: number; path?: string };
  db: MainDb;
  /** Table descriptions by table name. */
  tableDb: SubDb;
  getTable(name: string, checkStatus: boolean, cb: ValueCallback<TableDescription>): void;
  getItemDb(name: string): SubDb;
  getIndexDb(indexType: 'Local' | 'Global', tableName: string, indexName: string): SubDb;
}

/** The data object produced by dynalite's validators (parsed expressions are added as `_condition`, ...). */
export type ActionData = Record<string, any>;

export type Action = (store: Store, data: ActionData, cb: ValueCallback<Record<string, unknown>>) => void;

export interface ValidationModule {
  types: Record<string, unknown>;
  custom?: (data: ActionData, store: Store) => string | undefined;
}

export interface DbModule {
  create(options: Record<string, unknown>): Store;
  createKey(item: WireItem, table: TableDescription): string;
  validateItem(item: WireItem, table: TableDescription): DynaliteError | undefined | null;
  validateKey(key: WireItem, table: TableDescription): DynaliteError | undefined | null;
  validateUpdates(
    attributeUpdates: unknown,
    expressionUpdates: unknown,
    table: TableDescription,
  ): DynaliteError | undefined | null;
  validateKeyPaths(nestedPaths: unknown, table: TableDescription): DynaliteError | undefined | null;
  checkConditional(data: ActionData, existingItem: WireItem | undefined): DynaliteError | undefined | null;
  updateIndexes(
    store: Store,
    table: TableDescription,
    existingItem: WireItem | undefined | null,
    item: WireItem | undefined | null,
    cb: ErrorCallback,
  ): void;
  mapPaths(paths: unknown, item: WireItem): WireItem;
  /** The first 6 hex digits of MD5('Outliers' + the key values' bytes): where a partition's keys sort. */
  hashPrefix(hashKey: string, hashType: string, rangeKey?: string, rangeType?: string): string;
  /** A key value as the store orders it (strings in hex, numbers as lexicographic strings). */
  toRangeStr(value: string, type: string): string;
  /** The index entries a write adds and removes (what `updateIndexes` writes), for one kind of index. */
  getIndexActions(
    indexes: IndexDescription[],
    existingItem: WireItem | undefined | null,
    item: WireItem | undefined | null,
    table: TableDescription,
  ): {
    puts: { index: string; key: string; item: WireItem }[];
    deletes: { index: string; key: string }[];
  };
  validationError(message: string): DynaliteError;
}

export interface ValidationsModule {
  checkTypes(data: ActionData, types: Record<string, unknown>): ActionData;
  checkValidations(
    data: ActionData,
    types: Record<string, unknown>,
    custom: ValidationModule['custom'],
    store: Store,
  ): void;
}

/** Marks the memory-level module once its MemoryLevel keeps strings (one patch per Node module instance). */
const STRING_STORE = Symbol.for('device-manager.local-engine.string-memory-store');

type MemoryLevelModule = { MemoryLevel: new (...args: any[]) => object; [STRING_STORE]?: true };

/**
 * The in-memory store (no data folder) keeps keys and values as strings instead of Buffers. memory-level
 * supports both; with Buffers every write allocated and copied its key and JSON, and every key compare
 * in its tree was a loop over bytes: about a tenth of the engine's time in a bulk import. The order is
 * unchanged because every key the store holds is ASCII (dynalite writes key values in hex or as
 * lexicographic number strings behind table and index names, which are ASCII, and the engine's own
 * keys are ASCII): for ASCII, string order is byte order. dynalite takes `MemoryLevel` from the
 * module when its `db` module loads, so this runs first.
 */
function storeStringsInMemory(): void {
  const memoryLevel = createRequire(load.resolve('dynalite/db'))('memory-level') as MemoryLevelModule;
  if (memoryLevel[STRING_STORE]) return;
  const Base = memoryLevel.MemoryLevel;
  memoryLevel.MemoryLevel = class StringMemoryLevel extends Base {
    constructor(location?: unknown, options?: Record<string, unknown>) {
      // memory-level takes the options as its first argument too (its location is a dummy).
      if (typeof location === 'object' && location !== null) super({ storeEncoding: 'utf8', ...location });
      else super(location, { storeEncoding: 'utf8', ...options });
    }
  };
  memoryLevel[STRING_STORE] = true;
}
storeStringsInMemory();

export const createDynalite = load('dynalite') as (options: Record<string, unknown>) => Server;
export const db = load('dynalite/db') as DbModule;
export const validations = load('dynalite/validations') as ValidationsModule;

export const actions = {
  putItem: load('dynalite/actions/putItem') as Action,
  updateItem: load('dynalite/actions/updateItem') as Action,
  deleteItem: load('dynalite/actions/deleteItem') as Action,
};

export const actionValidations = {
  putItem: load('dynalite/validations/putItem') as ValidationModule,
  updateItem: load('dynalite/validations/updateItem') as ValidationModule,
  deleteItem: load('dynalite/validations/deleteItem') as ValidationModule,
  getItem: load('dynalite/validations/getItem') as ValidationModule,
};

/** Key prefixes of dynalite's sub-databases inside the main LevelDB (db/index.js `getSubDb`). */
export const itemDbPrefix = (tableName: string): string => `item-${tableName}~`;
export const indexDbPrefix = (indexType: 'Local' | 'Global', tableName: string, indexName: string): string =>
  `index-${indexType.toLowerCase()}~${tableName}~${indexName}~`;

/** Turns a callback-style dynalite call into a promise. */
export function call<T>(fn: (cb: ValueCallback<T>) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}
