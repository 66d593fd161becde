/**
 * DynamoDB's size limits, enforced with DynamoDB's exception types and wording: 400 KB items (PutItem,
 * the result of UpdateItem, BatchWriteItem, transactions), 2,048-byte partition keys, 1,024-byte
 * sort keys, 4 MB per transaction; sizes in UTF-8 bytes, attribute names included.
 */
import {
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { WireItem } from '@device-manager/local-engine/dynalite';
import { itemSize as wireItemSize } from '@device-manager/local-engine/limits';
import { createTable, scanAll, startHarness, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await createTable(h.client, 'items', { hash: 'pk' });
  await createTable(h.client, 'ranged', { hash: 'pk', range: 'sk' });
});

afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const itemSize = (item: Record<string, AttributeValue> | WireItem) => wireItemSize(item as unknown as WireItem);
const MAX_ITEM = 409_600;
const PUT_TOO_LARGE = 'Item size has exceeded the maximum allowed size';
const UPDATE_TOO_LARGE = 'Item size to update has exceeded the maximum allowed size';

/** An item of `items` measuring exactly `bytes`: `pk` (2 + key) and `p` (1 + payload). */
function itemOfBytes(pk: string, bytes: number, char = 'x'): Record<string, AttributeValue> {
  const charBytes = Buffer.byteLength(char);
  const rest = bytes - 2 - Buffer.byteLength(pk) - 1;
  const payload = char.repeat(Math.floor(rest / charBytes)) + 'x'.repeat(rest % charBytes);
  const item = { pk: S(pk), p: S(payload) };
  expect(itemSize(item)).toBe(bytes);
  return item;
}

const get = async (pk: string) =>
  (await h.client.send(new GetItemCommand({ TableName: 'items', Key: { pk: S(pk) } }))).Item;

describe('item size', () => {
  test('measures as the developer guide says: names and strings in UTF-8, numbers, lists, maps, sets', () => {
    expect(itemSize({ é: S('é€') })).toBe(2 + 5);
    expect(itemSize({ n: { N: '123.4500' } })).toBe(1 + 4); // 12345: 3 bytes for 5 digits, plus 1
    expect(itemSize({ n: { N: '-0.001' } })).toBe(1 + 2);
    expect(itemSize({ b: { B: Buffer.from('abcd').toString('base64') } })).toBe(1 + 4);
    expect(itemSize({ t: { BOOL: true }, z: { NULL: true } })).toBe(2 + 2);
    expect(itemSize({ l: { L: [S('ab'), S('c')] } })).toBe(1 + 3 + (1 + 2) + (1 + 1));
    expect(itemSize({ m: { M: { k: S('v') } } })).toBe(1 + 3 + 1 + (1 + 1));
    expect(itemSize({ s: { SS: ['a', 'bb'] } })).toBe(1 + 3);
  });

  test('PutItem accepts an item of exactly 400 KB and refuses one byte more, counting UTF-8 bytes', async () => {
    await h.client.send(new PutItemCommand({ TableName: 'items', Item: itemOfBytes('at', MAX_ITEM) }));
    expect(itemSize((await get('at'))!)).toBe(MAX_ITEM);
    await expect(
      h.client.send(new PutItemCommand({ TableName: 'items', Item: itemOfBytes('over', MAX_ITEM + 1) })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: PUT_TOO_LARGE,
    });
    // 300,000 characters of 'é' are 600,000 bytes: over, although under 409,600 UTF-16 units.
    await expect(
      h.client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('wide'), p: S('é'.repeat(300_000)) } })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: PUT_TOO_LARGE,
    });
    // Long attribute names count too.
    await expect(
      h.client.send(
        new PutItemCommand({
          TableName: 'items',
          Item: { pk: S('names'), ['n'.repeat(200_000)]: S('a'), ['m'.repeat(210_000)]: S('b') },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: PUT_TOO_LARGE });
    expect(await get('over')).toBeUndefined();
    expect(await get('wide')).toBeUndefined();
  });

  test('UpdateItem refuses a result over 400 KB and leaves the item as it was', async () => {
    await h.client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('grow'), a: S('é'.repeat(150_000)) } }));
    await expect(
      h.client.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key: { pk: S('grow') },
          UpdateExpression: 'SET b = :b',
          ExpressionAttributeValues: { ':b': S('é'.repeat(60_000)) },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: UPDATE_TOO_LARGE });
    expect(Object.keys((await get('grow'))!).sort()).toEqual(['a', 'pk']);
  });

  test('BatchWriteItem refuses the whole batch when one put is over 400 KB', async () => {
    await expect(
      h.client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            items: [
              { PutRequest: { Item: { pk: S('batch-ok') } } },
              { PutRequest: { Item: { pk: S('batch-big'), p: S('€'.repeat(140_000)) } } },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: PUT_TOO_LARGE });
    expect(await get('batch-ok')).toBeUndefined();
  });

  test(
    'a transaction Put over 400 KB is a ValidationException; an ' + 'Update is cancelled with a ValidationError reason',
    async () => {
      await expect(
        h.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [{ Put: { TableName: 'items', Item: itemOfBytes('tx-put', MAX_ITEM + 1, 'é') } }],
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException', message: PUT_TOO_LARGE });
      await h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'items', Item: itemOfBytes('tx-at', MAX_ITEM, 'é') } }],
        }),
      );
      expect(itemSize((await get('tx-at'))!)).toBe(MAX_ITEM);

      const error = await h.client
        .send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: 'items', Item: { pk: S('tx-bystander') } } },
              {
                Update: {
                  TableName: 'items',
                  Key: { pk: S('tx-at') },
                  UpdateExpression: 'SET q = :q',
                  ExpressionAttributeValues: { ':q': S('x') },
                },
              },
            ],
          }),
        )
        .catch((err: unknown) => err);
      expect(error).toMatchObject({
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ValidationError', Message: UPDATE_TOO_LARGE }],
      });
      expect(await get('tx-bystander')).toBeUndefined();
    },
  );
});

describe('key size', () => {
  const HASH_TOO_LARGE =
    'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes';
  const RANGE_TOO_LARGE =
    'One or more parameter values were invalid: Aggregated size ' +
    'of all range keys has exceeded the size limit of 1024 bytes';

  test('a partition key may have 2,048 UTF-8 bytes, not more, on every write and read', async () => {
    await h.client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('é'.repeat(1024)) } }));
    const tooLong = { pk: S('é'.repeat(1024) + 'x') }; // 1,025 characters, 2,049 bytes
    const refused = { name: 'ValidationException', message: HASH_TOO_LARGE };
    await expect(h.client.send(new PutItemCommand({ TableName: 'items', Item: tooLong }))).rejects.toMatchObject(
      refused,
    );
    await expect(h.client.send(new GetItemCommand({ TableName: 'items', Key: tooLong }))).rejects.toMatchObject(
      refused,
    );
    await expect(
      h.client.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key: tooLong,
          UpdateExpression: 'SET a = :a',
          ExpressionAttributeValues: { ':a': S('a') },
        }),
      ),
    ).rejects.toMatchObject(refused);
    await expect(
      h.client.send(new BatchWriteItemCommand({ RequestItems: { items: [{ PutRequest: { Item: tooLong } }] } })),
    ).rejects.toMatchObject(refused);
    await expect(
      h.client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'items', Item: tooLong } }] })),
    ).rejects.toMatchObject(refused);
  });

  test('a sort key may have 1,024 UTF-8 bytes, not more', async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'ranged', Item: { pk: S('p'), sk: S('€'.repeat(341) + 'x') } }),
    ); // 1,024 bytes
    const refused = { name: 'ValidationException', message: RANGE_TOO_LARGE };
    const tooLong = { pk: S('p'), sk: S('€'.repeat(341) + 'xy') }; // 1,025 bytes, 343 characters
    await expect(h.client.send(new PutItemCommand({ TableName: 'ranged', Item: tooLong }))).rejects.toMatchObject(
      refused,
    );
    await expect(
      h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: 'ranged',
                Key: tooLong,
                UpdateExpression: 'SET a = :a',
                ExpressionAttributeValues: { ':a': S('a') },
              },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject(refused);
    expect(await scanAll(h.client, 'ranged')).toHaveLength(1);
  });
});

describe('transaction size', () => {
  const TOO_LARGE = { name: 'ValidationException', message: 'Transaction request cannot be larger than 4 MB' };
  const big = (pk: string) => itemOfBytes(pk, 390 * 1024);

  test('TransactWriteItems refuses puts over 4 MB in all and applies nothing; 10 items of 390 KB pass', async () => {
    const puts = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ Put: { TableName: 'items', Item: big(`${prefix}${i}`) } }));
    await expect(
      h.client.send(new TransactWriteItemsCommand({ TransactItems: puts('four-', 11) })),
    ).rejects.toMatchObject(TOO_LARGE);
    expect(await get('four-0')).toBeUndefined();
    await h.client.send(new TransactWriteItemsCommand({ TransactItems: puts('four-', 10) }));
    expect(await get('four-9')).toBeDefined();
  });

  test('the items a transaction updates or checks count at their stored size', async () => {
    await h.client.send(new PutItemCommand({ TableName: 'items', Item: big('four-10') }));
    const touchAll = Array.from({ length: 11 }, (_, i) =>
      i % 2 === 0
        ? {
            Update: {
              TableName: 'items',
              Key: { pk: S(`four-${i}`) },
              UpdateExpression: 'SET touched = :t',
              ExpressionAttributeValues: { ':t': S('yes') },
            },
          }
        : {
            ConditionCheck: {
              TableName: 'items',
              Key: { pk: S(`four-${i}`) },
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
    );
    await expect(h.client.send(new TransactWriteItemsCommand({ TransactItems: touchAll }))).rejects.toMatchObject(
      TOO_LARGE,
    );
    expect((await get('four-0'))?.touched).toBeUndefined();
    await h.client.send(new TransactWriteItemsCommand({ TransactItems: touchAll.slice(0, 10) }));
    expect((await get('four-0'))?.touched).toEqual(S('yes'));
  });

  test('TransactGetItems refuses to return more than 4 MB', async () => {
    const gets = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ Get: { TableName: 'items', Key: { pk: S(`four-${i}`) } } }));
    await expect(h.client.send(new TransactGetItemsCommand({ TransactItems: gets(11) }))).rejects.toMatchObject(
      TOO_LARGE,
    );
    const { Responses } = await h.client.send(new TransactGetItemsCommand({ TransactItems: gets(10) }));
    expect(Responses?.every((response) => response.Item)).toBe(true);
  });
});
