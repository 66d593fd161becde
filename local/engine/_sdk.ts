process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED='true';
import { createServer } from 'node:http';
import { DynamoDBClient, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
(async () => {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('Content-Type', 'application/x-amz-json-1.0'); res.end('{}'); }); });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as any).port;
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  const tx = (n: number) => new TransactWriteItemsCommand({ TransactItems: [
    { Put: { TableName: 'bench', Item: { pk: { S: `x-${n}-a` }, v: { N: String(n) } }, ConditionExpression: 'attribute_not_exists(pk)' } },
    { Put: { TableName: 'bench', Item: { pk: { S: `x-${n}-b` }, v: { N: String(n) } } } },
    { Update: { TableName: 'bench', Key: { pk: { S: `x-${n}-c` } }, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
    { ConditionCheck: { TableName: 'bench', Key: { pk: { S: `x-${n}-d` } }, ConditionExpression: 'attribute_not_exists(pk)' } },
  ]});
  const put = (n: number) => new PutItemCommand({ TableName: 'bench', Item: { pk: { S: `p-${n}` }, v: { N: String(n) } } });
  for (const [name, mk] of [['tx', tx], ['put', put], ['tx', tx], ['put', put]] as const) {
    for (let i = 0; i < 300; i++) await client.send(mk(i) as any);
    const N = 1500; const t = performance.now();
    for (let i = 0; i < N; i++) await client.send(mk(i) as any);
    console.log(name, 'us/op', ((performance.now() - t) * 1000 / N).toFixed(0));
  }
  client.destroy(); server.close();
})();
