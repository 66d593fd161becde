import { startEngine } from './index';
import { transactWriteItems, IdempotencyCache } from './transactions';
import { ChangeFeed } from './change-feed';
import { db, actions, actionValidations, validations, createDynalite } from './dynalite';
import { createServer } from 'node:net';
(async () => {
  let store: any;
  const create = db.create; db.create = (o) => (store = create.call(db, o));
  const server = createDynalite({ createTableMs: 0 }); db.create = create;
  const createTable = require('dynalite/actions/createTable');
  await new Promise((r, j) => createTable(store, { TableName: 'bench', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }, (e: any) => e ? j(e) : r(0)));
  await new Promise(r => setTimeout(r, 50));
  const feed = new ChangeFeed(); feed.attach(store);
  const ctx = { store, feed, tokens: new IdempotencyCache(), conflictRate: 0, random: Math.random };
  const tx = (n: number) => ({ ClientRequestToken: 'tok' + n, TransactItems: [
    { Put: { TableName: 'bench', Item: { pk: { S: `x-${n}-a` }, v: { N: String(n) } }, ConditionExpression: 'attribute_not_exists(pk)' } },
    { Put: { TableName: 'bench', Item: { pk: { S: `x-${n}-b` }, v: { N: String(n) } } } },
    { Update: { TableName: 'bench', Key: { pk: { S: `x-${n}-c` } }, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
    { ConditionCheck: { TableName: 'bench', Key: { pk: { S: `x-${n}-d` } }, ConditionExpression: 'attribute_not_exists(pk)' } },
  ]});
  for (let i = 0; i < 2000; i++) await transactWriteItems(ctx as any, tx(i));
  let t = performance.now(); const N = 5000;
  for (let i = 0; i < N; i++) await transactWriteItems(ctx as any, tx(10000 + i));
  console.log('tx direct us/op', ((performance.now() - t) * 1000 / N).toFixed(1));
  const put = (n: number) => { const d = validations.checkTypes({ TableName: 'bench', Item: { pk: { S: `p-${n}` }, v: { N: String(n) } } }, actionValidations.putItem.types); validations.checkValidations(d, actionValidations.putItem.types, actionValidations.putItem.custom, store); return new Promise((r, j) => actions.putItem(store, d, (e) => e ? j(e) : r(0))); };
  for (let i = 0; i < 2000; i++) await put(i);
  t = performance.now();
  for (let i = 0; i < N; i++) await put(10000 + i);
  console.log('put direct us/op', ((performance.now() - t) * 1000 / N).toFixed(1));
  process.exit(0);
})();
