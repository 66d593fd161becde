/**
 * A transaction's Put is applied by the engine itself (condition, index entries, item) rather than by
 * dynalite's putItem (packages/local-engine/src/transactions.ts): the same sequence of writes through
 * TransactWriteItems and through PutItem leaves the same items and the same index entries, and the
 * same bad input is refused.
 */
import {
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { createTable, scanAll, startHarness, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  for (const name of ['viaTransaction', 'viaPutItem']) {
    await createTable(h.client, name, {
      hash: 'pk',
      range: 'sk',
      gsis: {
        byOwner: { hash: 'owner', range: 'created' },
        byTag: { hash: 'tag', projection: 'KEYS_ONLY' },
      },
    });
  }
});

afterAll(() => h.close());

type Item = Record<string, AttributeValue>;
const s = (S: string) => ({ S });

/** Writes of one item and a second one: new, index key moved, index attribute dropped, unchanged, conditional. */
const WRITES: { item: Item; condition?: string }[] = [
  { item: { pk: s('d1'), sk: s('a'), owner: s('alice'), created: s('1'), tag: s('x'), n: { N: '1' } } },
  { item: { pk: s('d2'), sk: s('a'), owner: s('alice'), created: s('2'), tag: s('x') } },
  { item: { pk: s('d1'), sk: s('a'), owner: s('bob'), created: s('3'), tag: s('y'), n: { N: '2' } } },
  { item: { pk: s('d1'), sk: s('a'), owner: s('bob'), created: s('3'), n: { N: '3' } } },
  { item: { pk: s('d1'), sk: s('a'), owner: s('bob'), created: s('3'), n: { N: '3' } } },
  {
    item: { pk: s('d3'), sk: s('b'), owner: s('carol'), created: s('4'), tag: s('y') },
    condition: 'attribute_not_exists(pk)',
  },
];

async function scanIndex(table: string, index: string) {
  const page = await h.client.send(new ScanCommand({ TableName: table, IndexName: index }));
  return (page.Items ?? []).map((item) => JSON.stringify(item)).sort();
}

const put = (table: string, item: Item, condition?: string): PutItemCommandInput => ({
  TableName: table,
  Item: item,
  ...(condition ? { ConditionExpression: condition } : {}),
});

describe('a Put inside TransactWriteItems', () => {
  it('leaves the items and index entries PutItem leaves', async () => {
    for (const { item, condition } of WRITES) {
      await h.client.send(
        new TransactWriteItemsCommand({ TransactItems: [{ Put: put('viaTransaction', item, condition) }] }),
      );
      await h.client.send(new PutItemCommand(put('viaPutItem', item, condition)));
    }
    expect(await scanAll(h.client, 'viaTransaction')).toEqual(await scanAll(h.client, 'viaPutItem'));
    for (const index of ['byOwner', 'byTag']) {
      const entries = await scanIndex('viaTransaction', index);
      expect(entries).toEqual(await scanIndex('viaPutItem', index));
      expect(entries.length).toBeGreaterThan(0);
    }
    // The moved and dropped entries are gone: alice keeps d2 only, tag y is d3's only.
    expect((await scanIndex('viaTransaction', 'byOwner')).filter((e) => e.includes('alice'))).toHaveLength(1);
    expect((await scanIndex('viaTransaction', 'byTag')).filter((e) => e.includes('"y"'))).toHaveLength(1);
  });

  it('fails its condition as PutItem does, and changes nothing', async () => {
    const before = await scanAll(h.client, 'viaTransaction');
    const item = { pk: s('d1'), sk: s('a'), owner: s('zed'), created: s('9') };
    await expect(
      h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: put('viaTransaction', item, 'attribute_not_exists(pk)') }],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
    });
    await expect(
      h.client.send(new PutItemCommand(put('viaPutItem', item, 'attribute_not_exists(pk)'))),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await scanAll(h.client, 'viaTransaction')).toEqual(before);
    expect(await scanIndex('viaTransaction', 'byOwner')).toEqual(await scanIndex('viaPutItem', 'byOwner'));
  });

  it.each([
    ['a missing sort key', { pk: s('d9') }],
    ['an index key of the wrong type', { pk: s('d9'), sk: s('a'), owner: { N: '1' }, created: s('1') }],
    ['a key attribute of the wrong type', { pk: { N: '1' }, sk: s('a') }],
  ])('refuses %s as PutItem does', async (_name, item) => {
    const direct = await h.client.send(new PutItemCommand(put('viaPutItem', item))).catch((err: Error) => err);
    const inTransaction = await h.client
      .send(new TransactWriteItemsCommand({ TransactItems: [{ Put: put('viaTransaction', item) }] }))
      .catch((err: Error) => err);
    expect(direct).toMatchObject({ name: 'ValidationException' });
    expect(inTransaction).toMatchObject({ name: 'ValidationException', message: (direct as Error).message });
  });
});
