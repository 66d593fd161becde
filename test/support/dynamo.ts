/** Test support: an embedded engine per test file and a fresh table per call. */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { counterApplier, type CounterApplierOptions } from '../../functions/adapters/dynamodb/counter-applier';
import { tableChangesOf } from '../../functions/handlers/stream/apply-counters';
import { ensureTable } from '../../local/create-table';
import { conflictOptionsFrom, startEngine, type Engine, type EngineOptions } from '@device-manager/local-engine';
import { startStreamFeed } from '@device-manager/local-engine/stream-feed';

export interface TestTable {
  engine: Engine;
  tableName: string;
  documentClient: ReturnType<typeof createDocumentClient>;
}

/**
 * ENGINE_CONFLICTS=emulate (and ENGINE_CONFLICT_WINDOW_MS) run the integration tests with DynamoDB's
 * transaction conflicts (docs/local-engine.md).
 */
export async function startTestEngine(options: EngineOptions = {}): Promise<Engine> {
  return startEngine({ ...conflictOptionsFrom(process.env), ...options });
}

/** Creates `devices-<uuid>` on the engine: integration tests never share a table. */
export async function freshTable(engine: Engine): Promise<TestTable> {
  const tableName = `devices-${randomUUID()}`;
  const client = new DynamoDBClient({ endpoint: engine.endpoint });
  await ensureTable(client, tableName);
  client.destroy();
  return { engine, tableName, documentClient: createDocumentClient({ endpoint: engine.endpoint }) };
}

/** A clock tests can move. */
export function testClock(start = '2026-03-15T10:00:00.000Z') {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
    set(iso: string) {
      now = Date.parse(iso);
    },
  };
}

/**
 * The counter applier on a test table, fed by the engine's stream like the local service's: start it
 * before the writes, and `settle()` before reading statistics (counters follow the stream). With
 * `reconcile`, the shared-findings reconciler runs on the same batches (composition/shared-findings.ts);
 * `maxRetries` redeliveries of a failing batch (the feed's default 3), as a stream mapping retries.
 */
export function startCounters(
  table: TestTable,
  statsShards: number,
  reconcile?: CounterApplierOptions['reconcile'],
  maxRetries?: number,
) {
  const applier = counterApplier({
    client: table.documentClient,
    tableName: table.tableName,
    statsShards,
    ...(reconcile ? { reconcile } : {}),
  });
  const deliveries: number[] = [];
  const feed = startStreamFeed({
    engine: table.engine,
    tableName: table.tableName,
    ...(maxRetries === undefined ? {} : { maxRetries }),
    handler: async (event) => {
      // Device records per delivery (the applier's own writes come back through the feed too).
      deliveries.push(
        event.Records.filter((r) => (r.dynamodb?.NewImage ?? r.dynamodb?.OldImage)?.kind?.S === 'device').length,
      );
      const report = await applier.apply(tableChangesOf(event.Records));
      if (report.failedFrom !== undefined) throw report.error;
    },
  });
  return { settle: () => feed.drain(), stop: () => feed.stop(), deliveries, applier };
}

const COUNTER_READS: ReadonlySet<string> = new Set([
  'stats',
  'metadataValues',
  'expirationsByDay',
  'countersConsistentAsOf',
  'certificateInventory',
  'connectivityCounts',
]);

/**
 * A device repository whose counter reads first wait for the counter applier to include every change
 * committed so far (as the local service's statistics routes do), over a table given its applier here.
 */
export function settledCounters<T extends object>(repository: T, table: TestTable, statsShards: number): T {
  const counters = startCounters(table, statsShards);
  return new Proxy(repository, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && COUNTER_READS.has(prop))
        return async (...args: unknown[]) => {
          await counters.settle();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
