/** Shared set-up of the engine conformance suite (not a test file: jest only runs *.test.ts). */
import {
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  QueryCommand,
  type AttributeValue,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startEngine, type ChangeRecord, type Engine, type EngineOptions } from '@device-manager/local-engine';

export interface Harness {
  engine: Engine;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Destroys the clients and stops the engine. */
  close(): Promise<void>;
}

/** A client of the real AWS SDK pointed at an engine. */
export function clientFor(engine: Engine): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: engine.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // Tests assert errors themselves: no SDK retries of throttling-class errors.
    maxAttempts: 1,
  });
}

/** Starts a fresh engine (in memory unless told otherwise) with SDK clients. */
export async function startHarness(options?: EngineOptions): Promise<Harness> {
  const engine = await startEngine(options);
  const client = clientFor(engine);
  const doc = DynamoDBDocumentClient.from(client);
  return {
    engine,
    client,
    doc,
    async close() {
      client.destroy();
      await engine.stop();
    },
  };
}

export interface TableSpec {
  hash: string;
  range?: string;
  /** GSIs by name: hash (and range) attribute, all of type S unless given in `types`. */
  gsis?: Record<string, { hash: string; range?: string; projection?: 'ALL' | 'KEYS_ONLY' }>;
  /** Attribute types other than S. */
  types?: Record<string, 'S' | 'N' | 'B'>;
}

/** Creates an on-demand table (ACTIVE at once on the engine). */
export async function createTable(client: DynamoDBClient, name: string, spec: TableSpec): Promise<void> {
  const attributes = new Set([spec.hash, ...(spec.range ? [spec.range] : [])]);
  const gsis: GlobalSecondaryIndex[] = Object.entries(spec.gsis ?? {}).map(([indexName, gsi]) => {
    attributes.add(gsi.hash);
    if (gsi.range) attributes.add(gsi.range);
    return {
      IndexName: indexName,
      KeySchema: [
        { AttributeName: gsi.hash, KeyType: 'HASH' },
        ...(gsi.range ? [{ AttributeName: gsi.range, KeyType: 'RANGE' as const }] : []),
      ],
      Projection: { ProjectionType: gsi.projection ?? 'ALL' },
    };
  });
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: spec.hash, KeyType: 'HASH' },
        ...(spec.range ? [{ AttributeName: spec.range, KeyType: 'RANGE' as const }] : []),
      ],
      AttributeDefinitions: [...attributes].map((attr) => ({
        AttributeName: attr,
        AttributeType: spec.types?.[attr] ?? 'S',
      })),
      ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
    }),
  );
}

/** Every item of a table, sorted by their JSON, to compare table states. */
export async function scanAll(client: DynamoDBClient, tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items
    .map((item) => ({ item, json: canonicalJson(item) }))
    .sort((a, b) => (a.json < b.json ? -1 : a.json > b.json ? 1 : 0))
    .map(({ item }) => item);
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : 1)))
      : val,
  );
}

/** Every item of one GSI partition, in index order. */
export async function queryIndex(
  client: DynamoDBClient,
  tableName: string,
  indexName: string,
  hashName: string,
  hashValue: string,
): Promise<Record<string, AttributeValue>[]> {
  const page = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: indexName,
      KeyConditionExpression: '#h = :h',
      ExpressionAttributeNames: { '#h': hashName },
      ExpressionAttributeValues: { ':h': { S: hashValue } },
    }),
  );
  return page.Items ?? [];
}

/** Collects every change record the engine emits from now on. */
export function recordChanges(engine: Engine): {
  records: ChangeRecord[];
  batches: ChangeRecord[][];
  stop: () => void;
} {
  const records: ChangeRecord[] = [];
  const batches: ChangeRecord[][] = [];
  const stop = engine.onChange((batch) => {
    batches.push([...batch]);
    records.push(...batch);
  });
  return { records, batches, stop };
}
