import { DynamoDBClient, CreateTableCommand, TransactWriteItemsCommand, TransactionCanceledException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startEngine } from '../../../local/engine';
test('dbg', async () => {
  const e = await startEngine();
  const c = new DynamoDBClient({ endpoint: e.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } , maxAttempts: 1});
  await c.send(new CreateTableCommand({ TableName: 'tbl', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
  await c.send(new PutItemCommand({ TableName: 'tbl', Item: { pk: { S: 'a' } } }));
  for (const items of [
   [{ ConditionCheck: { TableName: 'tbl', Key: { pk: { S: 'b' } }, ConditionExpression: 'attribute_exists(pk)' } }],
   [{ ConditionCheck: { TableName: 'tbl', Key: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } }],
  ]) {
  const err: any = await c.send(new TransactWriteItemsCommand({ TransactItems: items })).catch((x) => x);
  console.log(err.constructor.name, err instanceof TransactionCanceledException, err.CancellationReasons);
  }
  c.destroy(); await e.stop();
});
