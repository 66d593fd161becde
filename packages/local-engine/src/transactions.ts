/**
 * TransactWriteItems and TransactGetItems on top of dynalite's store.
 *
 * Every action is validated by dynalite's own validators (which parse the expressions), then run by
 * dynalite's own put/update/delete action against a stand-in store that serves the item read under
 * the transaction's locks and records the item and index writes instead of applying them. If every
 * action succeeds, all recorded writes are committed in one LevelDB batch, so readers never observe
 * half a transaction; otherwise nothing is written and the cancellation reasons are returned.
 */
import { createHash } from 'node:crypto';
import type { ChangeFeed, CommittedWrite } from './change-feed';
import { CONFLICT_MESSAGE, itemId, type ConflictTracker } from './conflicts';
import {
  actions,
  actionValidations,
  call,
  db,
  indexDbPrefix,
  itemDbPrefix,
  validations,
  type Action,
  type ActionData,
  type BatchOperation,
  type DynaliteError,
  type ErrorCallback,
  type LockFn,
  type Store,
  type SubDb,
  type TableDescription,
  type ValidationModule,
  type ValueCallback,
  type WireItem,
} from './dynalite';
import { createKey, getIndexActions } from './keys';
import { itemSize, MAX_TRANSACTION_BYTES, TRANSACTION_TOO_LARGE } from './limits';
import { isWireMap } from './wire-values';

const NS = 'com.amazonaws.dynamodb.v20120810#';
const MAX_ACTIONS = 100;
const TOKEN_TTL_MS = 10 * 60 * 1000;

export interface TransactionContext {
  store: Store;
  feed: ChangeFeed;
  tokens: IdempotencyCache;
  /** Probability (0..1) of cancelling a TransactWriteItems with TransactionConflict. */
  conflictRate: number;
  random: () => number;
  /** The items of the transactions in flight, when conflicts are emulated (./conflicts.ts). */
  conflicts: ConflictTracker;
}

type WriteKind = 'ConditionCheck' | 'Put' | 'Delete' | 'Update';
const WRITE_KINDS: readonly WriteKind[] = ['ConditionCheck', 'Put', 'Delete', 'Update'];

/** Members of dynalite's single-item requests that the transaction shapes do not have. */
const NOT_IN_TRANSACTIONS = [
  'ReturnValues',
  'Expected',
  'ConditionalOperator',
  'AttributeUpdates',
  'AttributesToGet',
  'ConsistentRead',
];

interface PreparedAction {
  kind: WriteKind | 'Get';
  data: ActionData;
  table: TableDescription;
  key: string;
  returnOldOnFailure: boolean;
}

interface CancellationReason {
  Code: string;
  Message?: string;
  Item?: WireItem;
}

/** Builds an error in dynalite's convention (`statusCode` + JSON `body`), sent as is by the HTTP layer. */
export function serviceError(type: string, message: string, statusCode = 400): DynaliteError {
  const err: DynaliteError = new Error(message);
  err.statusCode = statusCode;
  // The transaction-era exceptions carry `Message` (capital M) in the SDK's shapes.
  err.body = { __type: `${NS}${type}`, Message: message };
  return err;
}

const validationError = (message: string): DynaliteError => db.validationError(message);

/**
 * ClientRequestToken bookkeeping: a token that completed successfully within the last 10 minutes
 * replays as a success without applying the transaction again; the same token with different
 * parameters is rejected; a token whose first request is still running is "in progress".
 */
export class IdempotencyCache {
  private readonly completed = new Map<string, { fingerprint: string; at: number }>();
  private readonly running = new Map<string, string>();

  constructor(
    private readonly ttlMs = TOKEN_TTL_MS,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of remembered tokens (after pruning). */
  get size(): number {
    this.prune();
    return this.completed.size;
  }

  /**
   * Registers the start of a request. Returns 'replay' when the token already succeeded with these
   * parameters; throws IdempotentParameterMismatch or TransactionInProgress.
   */
  begin(token: string, fingerprint: string): 'replay' | 'run' {
    this.prune();
    const done = this.completed.get(token);
    const running = this.running.get(token);
    const known = done?.fingerprint ?? running;
    if (known !== undefined && known !== fingerprint) {
      throw serviceError(
        'IdempotentParameterMismatchException',
        'One or more parameter values were invalid: the ClientRequestToken was already used with different parameters',
      );
    }
    if (done) return 'replay';
    if (running !== undefined) {
      throw serviceError(
        'TransactionInProgressException',
        'The transaction with the given request token is already in progress.',
      );
    }
    this.running.set(token, fingerprint);
    return 'run';
  }

  /** The request succeeded: remember the token for the TTL, counted from completion. */
  complete(token: string): void {
    const fingerprint = this.running.get(token);
    this.running.delete(token);
    if (fingerprint === undefined) return;
    this.completed.delete(token);
    this.completed.set(token, { fingerprint, at: this.now() });
    this.prune();
  }

  /** The request failed: the token may be used again (a cancelled transaction applied nothing). */
  abort(token: string): void {
    this.running.delete(token);
  }

  /** Drops expired tokens (and the oldest ones beyond `maxEntries`); the Map is in completion order. */
  prune(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [token, entry] of this.completed) {
      if (entry.at > oldest && this.completed.size <= this.maxEntries) break;
      this.completed.delete(token);
    }
  }
}

/**
 * Handles a TransactWriteItems request body (`raw`: its text as received, when there is one);
 * resolves to the response body or rejects with a service error.
 */
export async function transactWriteItems(
  ctx: TransactionContext,
  input: unknown,
  raw?: string,
): Promise<Record<string, unknown>> {
  const request = asObject(input);
  // Fingerprint before validation: dynalite's validators normalise (and strip) parts of the request.
  const token = request.ClientRequestToken;
  // A digest, not the request: the cache holds up to 100,000 tokens for 10 minutes, and a request
  // can weigh megabytes. Of the request as sent: a client's retry sends the same bytes (sorting every
  // object's keys first cost about as much as the digest). The text as received holds the token too,
  // which changes nothing (fingerprints are only compared under one token) and spares encoding the
  // request again.
  const fingerprint = createHash('sha256')
    .update(raw ?? JSON.stringify({ ...request, ClientRequestToken: undefined }))
    .digest('base64');
  const items = checkTransactItems(request.TransactItems);
  checkCommonMembers(request);
  if (token !== undefined && (typeof token !== 'string' || token.length < 1 || token.length > 36)) {
    throw validationError(
      "1 validation error detected: Value at 'clientRequestToken' " +
        'failed to satisfy constraint: Member must have length between ' +
        '1 and 36',
    );
  }

  const prepared = await prepare(ctx.store, items, (entry) => {
    const kinds = WRITE_KINDS.filter((kind) => entry[kind] != null);
    if (
      kinds.length !== 1 ||
      Object.keys(entry).some((name) => entry[name] != null && !WRITE_KINDS.includes(name as WriteKind))
    ) {
      throw validationError('TransactItems can only contain one of Check, Put, Update or Delete');
    }
    return kinds[0]!;
  });

  checkTransactionSize(
    prepared.map((action) => (action.kind === 'Put' ? action.data.Item : action.data.Key) as WireItem),
  );

  if (typeof token === 'string' && ctx.tokens.begin(token, fingerprint) === 'replay') return {};
  try {
    const ids = prepared.map(({ table, key }) => itemId(table.TableName, key));
    let conflicting = ctx.conflicts.conflicting(ids);
    if (!conflicting.some(Boolean) && ctx.conflictRate > 0 && ctx.random() < ctx.conflictRate) {
      // Injected conflict: as if another transaction held one of the items.
      const victim = Math.floor(ctx.random() * prepared.length);
      conflicting = prepared.map((_, i) => i === victim);
    }
    if (conflicting.some(Boolean)) {
      ctx.conflicts.counts.transactionsCancelled++;
      throw conflictCancellation(conflicting);
    }
    // No await between the check above and the claim: nothing can slip in between.
    await ctx.conflicts.during(ids, () => commit(ctx, prepared));
  } catch (err) {
    if (typeof token === 'string') ctx.tokens.abort(token);
    throw err;
  }
  if (typeof token === 'string') ctx.tokens.complete(token);
  return {};
}

/** Evaluates every action under the items' locks and writes all or nothing. */
async function commit(ctx: TransactionContext, prepared: PreparedAction[]): Promise<void> {
  await withLocks(ctx.store, prepared, async () => {
    const existing = await readItems(ctx.store, prepared);
    const outcomes = await Promise.all(prepared.map((action, i) => evaluate(ctx.store, action, existing[i])));
    if (outcomes.some((outcome) => outcome.reason)) {
      throw cancellation(outcomes.map((outcome) => outcome.reason ?? { Code: 'None' }));
    }
    // The items as the transaction leaves them (or finds them, for deletes and condition checks).
    checkTransactionSize(
      outcomes.map((outcome, i) => outcome.write?.newItem ?? existing[i] ?? (prepared[i]!.data.Key as WireItem)),
    );
    const ops: BatchOperation[] = [];
    const writes: CommittedWrite[] = [];
    outcomes.forEach((outcome, i) => {
      if (!outcome.write) return;
      const action = prepared[i]!;
      ops.push(...outcome.write.indexOps);
      const itemKey = itemDbPrefix(action.table.TableName) + action.key;
      const { newItem } = outcome.write;
      // Encoded once, for the store and for the item's stream record.
      const newItemJson = newItem ? JSON.stringify(newItem) : undefined;
      ops.push(
        newItemJson
          ? { type: 'put', key: itemKey, value: newItemJson, valueEncoding: 'utf8' }
          : { type: 'del', key: itemKey },
      );
      // The item read under the locks (parsed for this transaction) and the one it writes are its own.
      writes.push({ table: action.table, oldItem: existing[i], newItem, newItemJson, owned: true });
    });
    // One atomic batch with the stream records; the promise form is tracked by dynalite's
    // shutdown (stop waits for it).
    const records = ctx.feed.prepare(writes);
    ops.push(...records.ops);
    try {
      if (ops.length > 0) await ctx.store.db.batch(ops);
    } catch (err) {
      ctx.feed.abandoned(records);
      throw err;
    }
    // Still under the locks: records of one item are emitted in commit order.
    ctx.feed.committed(records);
  });
}

/** Handles a TransactGetItems request body. Reads under the items' locks, so the result is one consistent snapshot. */
export async function transactGetItems(ctx: TransactionContext, input: unknown): Promise<Record<string, unknown>> {
  const request = asObject(input);
  const items = checkTransactItems(request.TransactItems);
  checkCommonMembers(request);
  const prepared = await prepare(ctx.store, items, (entry) => {
    if (entry.Get == null || Object.keys(entry).some((name) => name !== 'Get' && entry[name] != null)) {
      throw validationError('TransactItems can only contain Get');
    }
    return 'Get';
  });
  const conflicting = ctx.conflicts.conflicting(prepared.map(({ table, key }) => itemId(table.TableName, key)));
  if (conflicting.some(Boolean)) {
    ctx.conflicts.counts.readsCancelled++;
    throw conflictCancellation(conflicting);
  }
  const found = await withLocks(ctx.store, prepared, () => readItems(ctx.store, prepared));
  checkTransactionSize(found.filter((item): item is WireItem => item !== undefined));
  const responses = prepared.map((action, i) => {
    const item = found[i];
    if (!item) return {};
    const paths = action.data._projection?.paths;
    return { Item: paths ? db.mapPaths(paths, item) : item };
  });
  return { Responses: responses };
}

/** DynamoDB's 4 MB limit on the aggregate size of the items of one transaction. */
function checkTransactionSize(items: WireItem[]): void {
  let total = 0;
  for (const item of items) total += itemSize(item);
  if (total > MAX_TRANSACTION_BYTES) throw validationError(TRANSACTION_TOO_LARGE);
}

function asObject(input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    const err: DynaliteError = new Error('Start of structure or map found where not expected');
    err.statusCode = 400;
    err.body = { __type: 'com.amazon.coral.service#SerializationException', Message: err.message };
    throw err;
  }
  return input as Record<string, unknown>;
}

function checkTransactItems(items: unknown): Record<string, unknown>[] {
  if (items == null) {
    throw validationError(
      "1 validation error detected: Value null at 'transactItems' " +
        'failed to satisfy constraint: Member must not be null',
    );
  }
  if (!Array.isArray(items)) throw validationError("Value at 'transactItems' must be a list");
  if (items.length < 1 || items.length > MAX_ACTIONS) {
    const bound = items.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ACTIONS}`;
    throw validationError(
      `1 validation error detected: Value at 'transactItems' failed ` +
        `to satisfy constraint: Member must have length ${bound}`,
    );
  }
  return items.map((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw validationError(`Value at 'transactItems.${i + 1}.member' must be a structure`);
    }
    return entry as Record<string, unknown>;
  });
}

function checkCommonMembers(request: Record<string, unknown>): void {
  const enums: Record<string, string[]> = {
    ReturnConsumedCapacity: ['INDEXES', 'TOTAL', 'NONE'],
    ReturnItemCollectionMetrics: ['SIZE', 'NONE'],
  };
  for (const [name, allowed] of Object.entries(enums)) {
    const value = request[name];
    if (value != null && !allowed.includes(value as string)) {
      throw validationError(
        `1 validation error detected: Value '${String(value)}' at '${name[0]!.toLowerCase()}${name.slice(1)}' ` +
          `failed to satisfy constraint: Member must satisfy enum value ` +
          `set: [${allowed.join(', ')}]`,
      );
    }
  }
}

/** The members of an action that are maps of attribute values. */
const WIRE_MAPS = ['Item', 'Key', 'ExpressionAttributeValues'] as const;

const VALIDATION_BY_KIND: Record<PreparedAction['kind'], ValidationModule> = {
  Put: actionValidations.putItem,
  Update: actionValidations.updateItem,
  Delete: actionValidations.deleteItem,
  ConditionCheck: actionValidations.deleteItem,
  Get: actionValidations.getItem,
};

/**
 * Validates every action with dynalite's validators and the table schema, resolves its table and
 * item key, and rejects two actions on one item (before any lock is taken: a duplicate key in a lock
 * request would wait for itself).
 */
async function prepare(
  store: Store,
  items: Record<string, unknown>[],
  kindOf: (entry: Record<string, unknown>) => PreparedAction['kind'],
): Promise<PreparedAction[]> {
  const parsed = items.map((entry, i) => {
    const kind = kindOf(entry);
    const member = { ...asObject(entry[kind]) };
    const path = `transactItems.${i + 1}.member.${kind[0]!.toLowerCase()}${kind.slice(1)}`;
    // Read before checkTypes, which strips the members that dynalite's single-item shapes lack.
    const returnValues = member.ReturnValuesOnConditionCheckFailure;
    if (returnValues != null && returnValues !== 'ALL_OLD' && returnValues !== 'NONE') {
      throw validationError(
        `1 validation error detected: Value '${String(returnValues)}' ` +
          `at '${path}.returnValuesOnConditionCheckFailure' failed to ` +
          `satisfy constraint: Member must satisfy enum value set: [ALL_OLD, ` +
          `NONE]`,
      );
    }
    delete member.ReturnValuesOnConditionCheckFailure;
    for (const name of NOT_IN_TRANSACTIONS) delete member[name];
    const required =
      kind === 'Update' ? 'UpdateExpression' : kind === 'ConditionCheck' ? 'ConditionExpression' : undefined;
    if (required && member[required] == null) {
      throw validationError(
        `1 validation error detected: Value null at '${path}.${required[0]!.toLowerCase()}${required.slice(1)}' ` +
          `failed to satisfy constraint: Member must not be null`,
      );
    }
    const module = VALIDATION_BY_KIND[kind];
    // Maps of attribute values already in their wire shape skip dynalite's type walk (./wire-values.ts).
    const asSent: Record<string, unknown> = {};
    for (const name of WIRE_MAPS)
      if (module.types[name] && isWireMap(member[name])) {
        asSent[name] = member[name];
        delete member[name];
      }
    const data = Object.assign(validations.checkTypes(member, module.types), asSent);
    validations.checkValidations(data, module.types, module.custom, store);
    return { kind, data, returnOldOnFailure: returnValues === 'ALL_OLD' };
  });

  const tables = new Map<string, TableDescription>();
  for (const name of new Set(parsed.map(({ data }) => data.TableName as string))) {
    const table = await call<TableDescription>((cb) => store.getTable(name, true, cb));
    tables.set(name, table!);
  }

  const seen = new Set<string>();
  return parsed.map(({ kind, data, returnOldOnFailure }) => {
    const table = tables.get(data.TableName as string)!;
    const invalid =
      kind === 'Put'
        ? db.validateItem(data.Item, table)
        : (db.validateKey(data.Key, table) ??
          (kind === 'Update' ? db.validateUpdates(undefined, data._updates, table) : undefined) ??
          (kind === 'Get' ? db.validateKeyPaths(data._projection?.nestedPaths, table) : undefined));
    if (invalid) throw invalid;
    const key = createKey(kind === 'Put' ? data.Item : data.Key, table);
    const id = itemId(table.TableName, key);
    if (seen.has(id)) throw validationError('Transaction request cannot include multiple operations on one item');
    seen.add(id);
    return { kind, data, table, key, returnOldOnFailure };
  });
}

/**
 * Runs `body` holding the locks of every item of the transaction. dynalite's single-item writes lock
 * the same per-table `lock` instances, so transactions and single-item writes exclude each other.
 * All lock requests are queued synchronously, in sorted table/key order: every queue then orders any
 * two requests the same way, so a request only ever waits for earlier ones and no cycle (deadlock)
 * can form.
 */
async function withLocks<T>(store: Store, prepared: PreparedAction[], body: () => Promise<T>): Promise<T> {
  const keysByTable = new Map<string, string[]>();
  for (const { table, key } of prepared) {
    const keys = keysByTable.get(table.TableName) ?? [];
    keys.push(key);
    keysByTable.set(table.TableName, keys);
  }
  const tableNames = [...keysByTable.keys()].sort();
  const releases: (() => void)[] = [];
  await new Promise<void>((resolve) => {
    let waiting = tableNames.length;
    for (const name of tableNames) {
      const keys = keysByTable.get(name)!.sort();
      store.getItemDb(name).lock(keys, (release) => {
        releases.push(release(() => undefined));
        if (--waiting === 0) resolve();
      });
    }
  });
  try {
    return await body();
  } finally {
    for (const release of releases) release();
  }
}

/**
 * Reads the items of a transaction in one multi-get. Every item lock is held, and a lock hand-over
 * costs an event-loop turn, so fewer asynchronous hops under the locks mean more transactions/s on
 * a hot item.
 */
async function readItems(store: Store, prepared: PreparedAction[]): Promise<(WireItem | undefined)[]> {
  const items = await store.db.getMany(prepared.map(({ table, key }) => itemDbPrefix(table.TableName) + key));
  return items.map((item) => item ?? undefined);
}

interface Outcome {
  reason?: CancellationReason;
  write?: { newItem?: WireItem; indexOps: BatchOperation[] };
}

const STOCK_ACTIONS: Record<Exclude<WriteKind, 'ConditionCheck'>, Action> = {
  Put: actions.putItem,
  Update: actions.updateItem,
  Delete: actions.deleteItem,
};

/** Evaluates one action against the item read under the locks, without writing anything. */
async function evaluate(store: Store, action: PreparedAction, existing: WireItem | undefined): Promise<Outcome> {
  if (action.kind === 'Get') return {};
  const failure = (err: DynaliteError): Outcome => {
    const type = err.body?.__type ?? '';
    if (type.endsWith('#ConditionalCheckFailedException')) {
      return {
        reason: {
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          ...(action.returnOldOnFailure && existing ? { Item: existing } : {}),
        },
      };
    }
    // Errors found while applying the action (e.g. an operand of the wrong type) cancel the
    // transaction with a ValidationError reason, as in DynamoDB.
    if (type.endsWith('#ValidationException'))
      return { reason: { Code: 'ValidationError', Message: err.body?.message ?? err.message } };
    throw err;
  };

  if (action.kind === 'ConditionCheck') {
    const invalid = db.checkConditional(action.data, existing);
    return invalid ? failure(invalid) : {};
  }
  if (action.kind === 'Put') {
    // dynalite's putItem, minus what `prepare` already did with the same calls (validateItem,
    // createKey) and what a transaction does not use (the consumed capacity): its condition, then
    // its index entries as its updateIndexes computes them, then the item.
    const invalid = db.checkConditional(action.data, existing);
    if (invalid) return failure(invalid);
    const newItem = action.data.Item as WireItem;
    return { write: { newItem, indexOps: indexOperations(action.table, existing, newItem) } };
  }

  const standIn = new StandInStore(store, action.table, existing);
  try {
    await call((cb) => STOCK_ACTIONS[action.kind as Exclude<WriteKind, 'ConditionCheck'>](standIn, action.data, cb));
  } catch (err) {
    return failure(err as DynaliteError);
  }
  // Same order as dynalite's updateIndexes: stale index entries out, then the new ones in.
  return { write: { newItem: standIn.newItem, indexOps: [...standIn.indexDeletes, ...standIn.indexPuts] } };
}

/**
 * The index entries a write replaces, as dynalite's updateIndexes writes them (local then global
 * indexes; its deletes before its puts), under the indexes' keys.
 */
function indexOperations(table: TableDescription, existing: WireItem | undefined, item: WireItem): BatchOperation[] {
  const deletes: BatchOperation[] = [];
  const puts: BatchOperation[] = [];
  for (const indexType of ['Local', 'Global'] as const) {
    const indexes = table[`${indexType}SecondaryIndexes`];
    if (!indexes?.length) continue;
    const changes = getIndexActions(indexes, existing, item, table);
    for (const { index, key } of changes.deletes) {
      deletes.push({ type: 'del', key: indexDbPrefix(indexType, table.TableName, index) + key });
    }
    for (const { index, key, item: entry } of changes.puts) {
      puts.push({ type: 'put', key: indexDbPrefix(indexType, table.TableName, index) + key, value: entry });
    }
  }
  return [...deletes, ...puts];
}

/** The transaction already holds the real locks: a stand-in lock runs its body at once. */
const heldLock: LockFn = (_key, exec) => exec(passThrough);
const passThrough = <F>(done: F): F => done;

/**
 * The store one action of a transaction runs against: it serves the item read under the locks and
 * records the item and index writes instead of applying them. A class, not closures per action: a
 * transaction evaluates up to 100 actions, and per-action closures were a measurable share of the
 * engine's time (each one allocated, and named by the TypeScript loader).
 */
class StandInStore implements Store {
  readonly options: Store['options'];
  readonly db: Store['db'];
  readonly tableDb: Store['tableDb'];
  newItem: WireItem | undefined;
  readonly indexDeletes: BatchOperation[] = [];
  readonly indexPuts: BatchOperation[] = [];
  private readonly itemDb: SubDb;

  constructor(
    store: Store,
    private readonly table: TableDescription,
    private readonly existing: WireItem | undefined,
  ) {
    this.options = store.options;
    this.db = store.db;
    this.tableDb = store.tableDb;
    this.itemDb = new StandInItemDb(this, existing);
  }

  getTable(_name: string, checkStatus: unknown, cb?: ValueCallback<TableDescription>): void {
    (typeof checkStatus === 'function' ? (checkStatus as ValueCallback<TableDescription>) : cb!)(null, this.table);
  }

  getItemDb(): SubDb {
    return this.itemDb;
  }

  getIndexDb(indexType: 'Local' | 'Global', tableName: string, indexName: string): SubDb {
    return new StandInIndexDb(this, this.existing, indexDbPrefix(indexType, tableName, indexName));
  }
}

/** The item store of a stand-in: its put/del become the action's new item. */
class StandInItemDb implements SubDb {
  readonly lock = heldLock;
  constructor(
    private readonly owner: StandInStore,
    private readonly existing: WireItem | undefined,
  ) {}
  get(_key: string, cb: ValueCallback<WireItem | undefined>): void {
    cb(null, this.existing);
  }
  put(_key: string, value: WireItem, cb: ErrorCallback): void {
    this.owner.newItem = value;
    cb();
  }
  del(_key: string, cb: ErrorCallback): void {
    this.owner.newItem = undefined;
    cb();
  }
}

/** An index store of a stand-in: its put/del become the action's index operations. */
class StandInIndexDb implements SubDb {
  readonly lock = heldLock;
  constructor(
    private readonly owner: StandInStore,
    private readonly existing: WireItem | undefined,
    private readonly prefix: string,
  ) {}
  get(_key: string, cb: ValueCallback<WireItem | undefined>): void {
    cb(null, this.existing);
  }
  put(key: string, value: WireItem, cb: ErrorCallback): void {
    this.owner.indexPuts.push({ type: 'put', key: this.prefix + key, value });
    cb();
  }
  del(key: string, cb: ErrorCallback): void {
    this.owner.indexDeletes.push({ type: 'del', key: this.prefix + key });
    cb();
  }
}

/** Cancellation with a TransactionConflict reason for each conflicting action, None for the others. */
function conflictCancellation(conflicting: boolean[]): DynaliteError {
  return cancellation(
    conflicting.map((conflict) =>
      conflict ? { Code: 'TransactionConflict', Message: CONFLICT_MESSAGE } : { Code: 'None' },
    ),
  );
}

function cancellation(reasons: CancellationReason[]): DynaliteError {
  const err = serviceError(
    'TransactionCanceledException',
    `Transaction cancelled, please refer cancellation reasons for ` +
      `specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
  );
  err.body = { ...err.body!, CancellationReasons: reasons } as DynaliteError['body'];
  return err;
}
