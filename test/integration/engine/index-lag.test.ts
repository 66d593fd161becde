/**
 * Index-lag mode (ENGINE_INDEX_LAG_MS / `indexLagMs`): a GSI Query sees an entry only `lag` ms after
 * the write that put it there, as DynamoDB's eventually consistent GSIs may; base-table reads see the
 * write at once. The engine's lag clock is moved by the test, so nothing depends on real time.
 */
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { startEngine } from '@device-manager/local-engine';
import { createTable, queryIndex, startHarness, type Harness } from './support';

const LAG = 60_000;
let t = 1_000_000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ indexLagMs: LAG, indexLagClock: () => t });
  await createTable(h.client, 'fleet', { hash: 'pk', gsis: { bySite: { hash: 'site', range: 'serial' } } });
});
afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const sites = async (site: string) => (await queryIndex(h.client, 'fleet', 'bySite', 'site', site)).map((i) => i.pk!.S);

it(
  'a new item is missing from the index right after the write ' +
    'and found once the lag has passed; a GetItem finds it at ' +
    'once',
  async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'fleet', Item: { pk: S('a'), site: S('lyon'), serial: S('01') } }),
    );
    expect(await sites('lyon')).toEqual([]);
    expect((await h.client.send(new GetItemCommand({ TableName: 'fleet', Key: { pk: S('a') } }))).Item?.site).toEqual(
      S('lyon'),
    );
    t += LAG - 1;
    expect(await sites('lyon')).toEqual([]);
    t += 1;
    expect(await sites('lyon')).toEqual(['a']);
  },
);

it(
  'transactions lag the same way; an update that keeps the index ' + 'key does not hide an entry already visible',
  async () => {
    await h.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: 'fleet', Item: { pk: S('b'), site: S('nantes'), serial: S('02') } } }],
      }),
    );
    expect(await sites('nantes')).toEqual([]);
    t += LAG;
    expect(await sites('nantes')).toEqual(['b']);
    await h.client.send(
      new UpdateItemCommand({
        TableName: 'fleet',
        Key: { pk: S('b') },
        UpdateExpression: 'SET note = :n',
        ExpressionAttributeValues: { ':n': S('x') },
      }),
    );
    expect(await sites('nantes')).toEqual(['b']);
    // Moving the item to another index key: the new entry lags.
    await h.client.send(
      new UpdateItemCommand({
        TableName: 'fleet',
        Key: { pk: S('b') },
        UpdateExpression: 'SET site = :s',
        ExpressionAttributeValues: { ':s': S('brest') },
      }),
    );
    expect(await sites('brest')).toEqual([]);
    t += LAG;
    expect(await sites('brest')).toEqual(['b']);
  },
);

it('Limit and paging count only visible entries', async () => {
  for (const [pk, serial] of [
    ['c1', '1'],
    ['c2', '2'],
  ])
    await h.client.send(
      new PutItemCommand({ TableName: 'fleet', Item: { pk: S(pk!), site: S('metz'), serial: S(serial!) } }),
    );
  t += LAG;
  await h.client.send(
    new PutItemCommand({ TableName: 'fleet', Item: { pk: S('c0'), site: S('metz'), serial: S('0') } }),
  );
  const page = await h.client.send(
    new QueryCommand({
      TableName: 'fleet',
      IndexName: 'bySite',
      KeyConditionExpression: 'site = :s',
      ExpressionAttributeValues: { ':s': S('metz') },
      Limit: 1,
    }),
  );
  expect(page.Items?.map((i) => i.pk!.S)).toEqual(['c1']);
  expect(page.LastEvaluatedKey?.pk).toEqual(S('c1'));
});

it('is off by default and refuses a negative lag', async () => {
  const plain = await startHarness();
  try {
    await createTable(plain.client, 'fleet', { hash: 'pk', gsis: { bySite: { hash: 'site', range: 'serial' } } });
    await plain.client.send(
      new PutItemCommand({ TableName: 'fleet', Item: { pk: S('a'), site: S('lyon'), serial: S('01') } }),
    );
    expect((await queryIndex(plain.client, 'fleet', 'bySite', 'site', 'lyon')).map((i) => i.pk!.S)).toEqual(['a']);
  } finally {
    await plain.close();
  }
  await expect(startEngine({ indexLagMs: -1 })).rejects.toThrow('indexLagMs must be a non-negative integer');
});
