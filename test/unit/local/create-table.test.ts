/** The local service's table: created from the schema, refused when an earlier release lacks an index. */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Engine } from '@device-manager/local-engine';
import { createTableInput } from '../../../functions/adapters/dynamodb/schema';
import { ensureTable } from '../../../local/create-table';
import { startTestEngine } from '../../support/dynamo';

let engine: Engine;
let client: DynamoDBClient;
beforeAll(async () => {
  engine = await startTestEngine();
  client = new DynamoDBClient({ endpoint: engine.endpoint, region: 'us-east-1' });
});
afterAll(async () => {
  client.destroy();
  await engine.stop();
});

it('creates the table once, then finds it', async () => {
  expect(await ensureTable(client, 'fresh')).toBe('created');
  expect(await ensureTable(client, 'fresh')).toBe('existing');
});

it('refuses a table of an earlier release without the holder index, naming it', async () => {
  const input = createTableInput('older');
  const GlobalSecondaryIndexes = input.GlobalSecondaryIndexes!.filter((g) => g.IndexName !== 'version-by-key');
  const AttributeDefinitions = input.AttributeDefinitions!.filter((a) => !['hk', 'hs'].includes(a.AttributeName!));
  await client.send(new CreateTableCommand({ ...input, GlobalSecondaryIndexes, AttributeDefinitions }));
  await expect(ensureTable(client, 'older')).rejects.toThrow(/lacks the index\(es\) version-by-key/);
});
