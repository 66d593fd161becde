/** Test support: an embedded engine per test file and a fresh table per call. */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTable } from '../../local/create-table';
import { conflictOptionsFrom, startEngine, type Engine, type EngineOptions } from '@device-manager/local-engine';

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
