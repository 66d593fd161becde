process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED='true';
import { startEngine } from './index';
import { DynamoDBClient, CreateTableCommand, TransactWriteItemsCommand, PutItemCommand, TransactionCanceledException, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
(async () => {
  const e = await startEngine();
  const c = new DynamoDBClient({ endpoint: e.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  await c.send(new CreateTableCommand({ TableName: 'tbl', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
  try { await c.send(new TransactWriteItemsCommand({ TransactItems: [{ ConditionCheck: { TableName: 'tbl', Key: { pk: { S: 'a' } }, ConditionExpression: 'attribute_exists(pk)' } }] })); } catch (err: any) { console.log(err.constructor.name, err instanceof TransactionCanceledException, err.CancellationReasons); }
  try { await c.send(new PutItemCommand({ TableName: 'tbl', Item: { pk: { S: 'a' } }, ConditionExpression: 'attribute_exists(pk)' })); } catch (err: any) { console.log(err.constructor.name, err instanceof ConditionalCheckFailedException); }
  c.destroy(); await e.stop();
})();
