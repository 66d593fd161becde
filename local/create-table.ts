/** Creates the service table from the shared schema when it does not exist yet. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { ALL_INDEXES, createTableInput } from '../functions/adapters/dynamodb/schema';

export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'existing'> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
    const missing = ALL_INDEXES.map((i) => i.name).filter((name) => !present.has(name));
    // The embedded engine cannot add an index to a table (DynamoDB can, one per update): refuse clearly
    // rather than run with queries and stream consumers that fail on the missing index.
    if (missing.length > 0)
      throw new Error(
        `table ${tableName} was created by an earlier release and lacks the index(es) ${missing.join(', ')}, ` +
          'which the embedded engine cannot add: start with a new DATA_DIR (docs/local-engine.md)',
      );
    return 'existing';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (
      Table?.TableStatus === 'ACTIVE' &&
      (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')
    )
      return 'created';
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
