/**
 * Local DynamoDB engine: dynalite (LevelDB-backed DynamoDB emulator) extended, without forking it,
 * with TransactWriteItems, TransactGetItems, DynamoDB's size limits and a durable change stream
 * (records stored in the write's own LevelDB batch, kept 24 hours) that emulates DynamoDB Streams.
 *
 * dynalite's HTTP server has a single `request` listener; the engine replaces it with one that sends
 * the two transaction targets to {@link ./transactions} and everything else to dynalite. See
 * docs/local-engine.md for what is emulated and the known gaps versus DynamoDB.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { ChangeFeed, type ChangeRecord } from './change-feed';
import { ConflictTracker, installWriteConflicts, type ConflictCounts, type ConflictMode } from './conflicts';
import { actionValidations, createDynalite, db, type DynaliteError, type Store } from './dynalite';
import { installIteratorClose } from './iterator-close';
import { installExpressionCache } from './expression-cache';
import { installIndexLag } from './index-lag';
import { checkInternals, checkStore } from './internals';
import { installSizeLimits } from './limits';
import { RecordLog } from './record-log';
import {
  DEFAULT_STREAM_RETENTION_MS,
  durableStream,
  lastStoredSequenceNumber,
  type DurableStream,
} from './stream-store';
import { isTableOperation, TableStatus } from './table-status';
import { IdempotencyCache, transactGetItems, transactWriteItems, type TransactionContext } from './transactions';

export type { ChangeRecord } from './change-feed';
export { conflictModeFrom, conflictOptionsFrom, type ConflictCounts, type ConflictMode } from './conflicts';
export type { DurableStream } from './stream-store';
export { checkInternals, DynaliteInternalsMovedError, INTERNALS } from './internals';
export { expressionCacheCounts } from './expression-cache';
export { storeIteratorCounts } from './iterator-close';

export interface EngineOptions {
  /** 0 or undefined = a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** undefined = in memory; else a LevelDB folder that survives restarts. */
  dataDir?: string;
  /**
   * 0..1: probability of cancelling a transaction with TransactionConflict (default 0), to exercise client retry code.
   */
  conflictRate?: number;
  /**
   * 'serialise' (default): requests on an item of a transaction in flight wait for it. 'emulate'
   * (ENGINE_CONFLICTS=emulate of the local service): they are rejected as DynamoDB rejects them
   * (TransactionConflict cancellation reasons, TransactionConflictException). See ./conflicts.ts.
   */
  conflicts?: ConflictMode;
  /**
   * With conflicts emulated, how long (ms) a transaction stays in flight at least, as DynamoDB's
   * two-phase transactions take milliseconds (default 0: one event-loop turn). Tests widen it.
   */
  conflictWindowMs?: number;
  /**
   * Also emit MODIFY records for writes that leave an item unchanged (default false: DynamoDB
   * Streams writes no record for a PutItem/UpdateItem that changes no data).
   */
  emitUnchangedWrites?: boolean;
  /** How long stream records are kept (default 24 hours, as DynamoDB Streams). */
  streamRetentionMs?: number;
  /**
   * Index-lag mode (ENGINE_INDEX_LAG_MS of the local service): a Query on a global secondary index
   * sees an entry only this many ms after the write that made it (default 0: at once). See ./index-lag.ts.
   */
  indexLagMs?: number;
  /** The clock that ages writes in index-lag mode (default Date.now); tests move it instead of sleeping. */
  indexLagClock?: () => number;
  /**
   * Latency model (ENGINE_LATENCY_MS of the local service): every request waits this many ms on a
   * timer before it is handled, as a call to DynamoDB waits on the network and the service (default
   * 0). The wait takes no CPU, so concurrent callers overlap it as they would in AWS.
   */
  latencyMs?: number;
}

export interface Engine {
  /** e.g. 'http://127.0.0.1:54321' */
  endpoint: string;
  port: number;
  /**
   * Subscribe to committed writes; records arrive in commit order, one per item written. Returns an unsubscribe
   * function.
   */
  onChange(listener: (records: readonly ChangeRecord[]) => void): () => void;
  /**
   * The stored stream: records kept (in the store, with the writes) for the retention period, and consumer checkpoints.
   */
  stream: DurableStream;
  /** Requests turned away with TransactionConflict since the start (a copy; emulated or injected conflicts). */
  readonly conflicts: ConflictCounts;
  /** Stop the HTTP server and close the store cleanly (no data written before stop is lost). */
  stop(): Promise<void>;
}

/** How long stop() lets in-flight requests finish before cutting their connections. */
const FORCE_CLOSE_MS = 5000;

/**
 * Where the store keeps the last change-feed sequence number of a run, written at stop (outside
 * dynalite's key prefixes `table~`, `item-`, `index-` and `tag-`, so no table operation sees it).
 * A start also looks at the last stored stream record, which covers a run that crashed.
 */
const LAST_SEQUENCE_KEY = 'engine~change-feed~last-sequence-number';

/** How often records older than the retention period are trimmed. */
const TRIM_INTERVAL_MS = 60_000;

/** Same limit as dynalite's own handler. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

type ExtensionHandler = (ctx: TransactionContext, input: unknown, raw: string) => Promise<Record<string, unknown>>;

const EXTENSION_TARGETS: Record<string, ExtensionHandler> = {
  'DynamoDB_20120810.TransactWriteItems': transactWriteItems,
  'DynamoDB_20120810.TransactGetItems': transactGetItems,
};

/**
 * Starts an engine: a dynalite server whose tables become ACTIVE at once, extended with
 * transactions and the change feed, listening on `host:port`.
 *
 * @param options port, host, data folder and conflict injection; all optional.
 * @returns the running engine; call {@link Engine.stop} to shut it down.
 */
export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
  const conflictRate = options.conflictRate ?? 0;
  if (!(conflictRate >= 0 && conflictRate <= 1))
    throw new RangeError(`conflictRate must be between 0 and 1, got ${conflictRate}`);
  const latencyMs = options.latencyMs ?? 0;
  if (!(Number.isInteger(latencyMs) && latencyMs >= 0))
    throw new RangeError(`latencyMs must be a non-negative integer, got ${latencyMs}`);
  const indexLagMs = options.indexLagMs ?? 0;
  if (!(Number.isInteger(indexLagMs) && indexLagMs >= 0))
    throw new RangeError(`indexLagMs must be a non-negative integer, got ${indexLagMs}`);
  // Before touching anything: a dynalite that moved one of the internals fails the start loudly.
  checkInternals();
  const conflicts = new ConflictTracker(options.conflicts ?? 'serialise', options.conflictWindowMs ?? 0);
  const host = options.host ?? '127.0.0.1';
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });

  // dynalite keeps its store private; catch it as dynalite's index.js creates it.
  let created: Store | undefined;
  const create = db.create;
  let server: Server;
  db.create = (storeOptions) => (created = create.call(db, storeOptions));
  try {
    server = createDynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  } finally {
    db.create = create;
  }
  if (!created) throw new Error('dynalite did not create its store through db.create (unexpected dynalite version?)');
  checkStore(created);
  const store: Store = created;
  installIteratorClose(store);
  // LevelDB opens lazily; open now so that a locked or unreadable data folder fails the start.
  try {
    await store.db.open();
  } catch (err) {
    const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Error(`cannot open the data folder ${options.dataDir}: ${reason}`, { cause: err });
  }

  installReturnValuesOnConditionCheckFailure();
  installSizeLimits();
  installExpressionCache();
  const [saved, stored] = await Promise.all([lastSequenceNumber(store), lastStoredSequenceNumber(store)]);
  // In memory, the stream records stay out of the store's tree (nothing survives a restart anyway).
  const log = options.dataDir ? undefined : new RecordLog();
  const feed = new ChangeFeed(options.emitUnchangedWrites ?? false, saved > stored ? saved : stored, log);
  feed.attach(store);
  const stream = durableStream(store, feed, options.streamRetentionMs ?? DEFAULT_STREAM_RETENTION_MS, log);
  installIndexLag(store, feed, indexLagMs, options.indexLagClock);
  const trim = () =>
    void stream.trim().catch((err: unknown) => {
      if (!stopping) console.error('[local-engine] trimming the stream failed', err);
    });
  const tables = new TableStatus(store);
  installWriteConflicts(store, conflicts);
  const ctx: TransactionContext = {
    store,
    feed,
    tokens: new IdempotencyCache(),
    conflictRate,
    random: Math.random,
    conflicts,
  };

  let stopping: Promise<void> | undefined;
  const [dynaliteListener] = server.listeners('request') as RequestListener[];
  if (!dynaliteListener) throw new Error('dynalite server has no request listener');
  server.removeAllListeners('request');
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // While stopping, answer and close: a client that keeps its keep-alive connection busy would
    // otherwise keep the server (which only closes idle connections) open forever.
    if (stopping) res.setHeader('Connection', 'close');
    const target = req.headers['x-amz-target'];
    const handler = typeof target === 'string' ? EXTENSION_TARGETS[target] : undefined;
    if (handler && req.method === 'POST') {
      handleExtension(ctx, handler, req, res);
      return;
    }
    // dynalite answers table operations before the table is ACTIVE (or gone): wait for it.
    if (isTableOperation(target)) tables.holdAnswer(res);
    dynaliteListener(req, res);
  };
  // The body is not read before the handler listens to it, so it waits in the request's buffer meanwhile.
  server.on('request', latencyMs > 0 ? (req, res) => void setTimeout(handle, latencyMs, req, res) : handle);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // e.g. EADDRINUSE: release the store (and the data folder's lock) before failing.
    await new Promise<void>((resolve) => store.db.close(() => resolve()));
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  trim();
  const trimTimer = setInterval(trim, TRIM_INTERVAL_MS).unref();
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    onChange: (listener) => feed.subscribe(listener),
    stream,
    get conflicts() {
      return { ...conflicts.counts };
    },
    stop() {
      // dynalite's close stops accepting connections, lets in-flight requests finish, then waits
      // for pending LevelDB operations and closes the store.
      clearInterval(trimTimer);
      stopping ??= new Promise<void>((resolve, reject) => {
        // Save the last sequence number for the next start on this data folder. This 'close'
        // listener runs before the one dynalite's close registers below, which only then starts
        // closing the store: the store waits for this write, as for any operation in progress.
        server.once('close', () => {
          store.db.put(LAST_SEQUENCE_KEY, feed.lastSequenceNumber.toString()).catch(() => undefined);
        });
        // Last resort against a request that never completes (e.g. a client stalled mid-body).
        const force = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_MS).unref();
        server.close((err?: Error) => {
          clearTimeout(force);
          feed.clear();
          if (err) reject(err);
          else resolve();
        });
        // Idle keep-alive sockets would otherwise hold the server open until the client drops them.
        server.closeIdleConnections();
      });
      return stopping;
    },
  };
}

/** The last sequence number saved by a previous run on the store's data (0 if none). */
async function lastSequenceNumber(store: Store): Promise<bigint> {
  try {
    const saved = await store.db.get(LAST_SEQUENCE_KEY);
    return typeof saved === 'string' && /^\d{1,40}$/.test(saved) ? BigInt(saved) : 0n;
  } catch {
    return 0n; // numbers then continue above the start time, as without a saved number
  }
}

const RVOCCF_INSTALLED = Symbol.for('device-manager.local-engine.return-values-on-condition-check-failure');

/**
 * Teaches dynalite's PutItem, UpdateItem and DeleteItem `ReturnValuesOnConditionCheckFailure`
 * (dynalite predates it and strips it as an unknown member): the member is added to their validation
 * shapes, and a failed condition then carries the existing item as `Item` of the
 * ConditionalCheckFailedException, as DynamoDB returns it. Installed once per dynalite instance.
 */
function installReturnValuesOnConditionCheckFailure(): void {
  const module = db as typeof db & { [RVOCCF_INSTALLED]?: true };
  if (module[RVOCCF_INSTALLED]) return;
  for (const validation of [actionValidations.putItem, actionValidations.updateItem, actionValidations.deleteItem]) {
    validation.types.ReturnValuesOnConditionCheckFailure = { type: 'String', enum: ['ALL_OLD', 'NONE'] };
  }
  const checkConditional = db.checkConditional;
  db.checkConditional = (data, existingItem) => {
    const err = checkConditional(data, existingItem);
    if (err?.body && existingItem && data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') {
      err.body = { ...err.body, Item: existingItem } as DynaliteError['body'];
    }
    return err;
  };
  module[RVOCCF_INSTALLED] = true;
}

function handleExtension(
  ctx: TransactionContext,
  handler: ExtensionHandler,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (tooLarge) {
      res.statusCode = 413;
      res.end();
      return;
    }
    if (req.headers.origin) res.setHeader('Access-Control-Allow-Origin', '*');
    let input: unknown;
    const raw = Buffer.concat(chunks).toString('utf8');
    try {
      input = JSON.parse(raw);
    } catch {
      send(res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
      return;
    }
    handler(ctx, input, raw).then(
      (body) => send(res, 200, body),
      (err: DynaliteError) => {
        if (err.statusCode && err.body) {
          send(res, err.statusCode, err.body);
          return;
        }
        console.error('[local-engine] internal error', err);
        send(res, 500, {
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: String(err.message ?? err),
        });
      },
    );
  });
}

/** Sends a JSON response with the headers DynamoDB (and dynalite) send. */
function send(res: ServerResponse, statusCode: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.statusCode = statusCode;
  res.setHeader('x-amzn-RequestId', randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0'));
  res.setHeader('x-amz-crc32', crc32(json) >>> 0);
  res.setHeader('Content-Type', 'application/x-amz-json-1.0');
  res.setHeader('Content-Length', Buffer.byteLength(json, 'utf8'));
  res.end(json);
}
