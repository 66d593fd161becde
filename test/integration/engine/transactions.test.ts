/**
 * TransactWriteItems / TransactGetItems conformance, through the real AWS SDK v3 clients.
 * Expectations follow AWS's API reference for these operations.
 */
import {
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyCache } from '@device-manager/local-engine/transactions';
import { bySize } from '../../support/tier';
import { createTable, queryIndex, recordChanges, scanAll, startHarness, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await createTable(h.client, 'devices', { hash: 'pk', gsis: { byOwner: { hash: 'owner', range: 'pk' } } });
  await createTable(h.client, 'counters', { hash: 'id', types: {} });
  await createTable(h.client, 'ledger', { hash: 'pk', range: 'sk', types: { sk: 'N' } });
});

afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const N = (value: number) => ({ N: String(value) });

async function getItem(table: string, key: Record<string, { S: string } | { N: string }>) {
  return (await h.client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

/** The error a promise rejects with; the assertion fails the test if it resolves instead. */
async function rejectionOf(promise: Promise<unknown>): Promise<TransactionCanceledException> {
  await expect(promise).rejects.toBeInstanceOf(Error);
  return promise.catch((err: unknown) => err as TransactionCanceledException) as Promise<TransactionCanceledException>;
}

describe('TransactWriteItems', () => {
  test('applies Put, Update, Delete and ConditionCheck together, and maintains the GSI', async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'devices', Item: { pk: S('tw-1'), owner: S('alice'), n: N(1) } }),
    );
    await h.client.send(new PutItemCommand({ TableName: 'devices', Item: { pk: S('tw-2'), owner: S('alice') } }));
    await h.client.send(new PutItemCommand({ TableName: 'devices', Item: { pk: S('tw-3'), owner: S('bob') } }));

    const response = await h.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: 'devices',
              Item: { pk: S('tw-4'), owner: S('alice') },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: 'devices',
              Key: { pk: S('tw-1') },
              UpdateExpression: 'SET #n = #n + :one, #o = :bob',
              ConditionExpression: '#n = :expected',
              ExpressionAttributeNames: { '#n': 'n', '#o': 'owner' },
              ExpressionAttributeValues: { ':one': N(1), ':bob': S('bob'), ':expected': N(1) },
            },
          },
          { Delete: { TableName: 'devices', Key: { pk: S('tw-2') }, ConditionExpression: 'attribute_exists(pk)' } },
          {
            ConditionCheck: {
              TableName: 'devices',
              Key: { pk: S('tw-3') },
              ConditionExpression: '#o = :bob',
              ExpressionAttributeNames: { '#o': 'owner' },
              ExpressionAttributeValues: { ':bob': S('bob') },
            },
          },
        ],
      }),
    );

    expect(response.$metadata.httpStatusCode).toBe(200);
    expect(await getItem('devices', { pk: S('tw-4') })).toEqual({ pk: S('tw-4'), owner: S('alice') });
    expect(await getItem('devices', { pk: S('tw-1') })).toEqual({ pk: S('tw-1'), owner: S('bob'), n: N(2) });
    expect(await getItem('devices', { pk: S('tw-2') })).toBeUndefined();
    expect((await queryIndex(h.client, 'devices', 'byOwner', 'owner', 'alice')).map((item) => item.pk?.S)).toEqual([
      'tw-4',
    ]);
    expect((await queryIndex(h.client, 'devices', 'byOwner', 'owner', 'bob')).map((item) => item.pk?.S)).toEqual([
      'tw-1',
      'tw-3',
    ]);
  });

  test('works through the document client (lib-dynamodb)', async () => {
    await h.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: 'ledger',
              Item: { pk: 'doc', sk: 1, tags: new Set(['a', 'b']), nested: { list: [1, 'two'] } },
            },
          },
          { Put: { TableName: 'ledger', Item: { pk: 'doc', sk: 2 } } },
        ],
      }),
    );
    const { Responses } = await h.doc.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: 'ledger', Key: { pk: 'doc', sk: 1 } } },
          { Get: { TableName: 'ledger', Key: { pk: 'doc', sk: 3 } } },
        ],
      }),
    );
    expect(Responses).toEqual([
      { Item: { pk: 'doc', sk: 1, tags: new Set(['a', 'b']), nested: { list: [1, 'two'] } } },
      {},
    ]);
  });

  test('a failed condition cancels everything and lists a reason for every action, in request order', async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'devices', Item: { pk: S('cx-1'), owner: S('carol'), v: N(1) } }),
    );
    await h.client.send(
      new PutItemCommand({ TableName: 'devices', Item: { pk: S('cx-2'), owner: S('carol'), v: N(1) } }),
    );
    const tableBefore = await scanAll(h.client, 'devices');
    const indexBefore = await queryIndex(h.client, 'devices', 'byOwner', 'owner', 'carol');
    const changes = recordChanges(h.engine);

    const cancelled = await rejectionOf(
      h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'devices', Item: { pk: S('cx-new'), owner: S('carol') } } },
            {
              Update: {
                TableName: 'devices',
                Key: { pk: S('cx-1') },
                UpdateExpression: 'SET #o = :dave',
                ConditionExpression: 'v = :two',
                ExpressionAttributeNames: { '#o': 'owner' },
                ExpressionAttributeValues: { ':dave': S('dave'), ':two': N(2) },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Delete: { TableName: 'devices', Key: { pk: S('cx-2') } } },
            {
              ConditionCheck: {
                TableName: 'devices',
                Key: { pk: S('cx-missing') },
                ConditionExpression: 'attribute_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      ),
    );

    expect(cancelled).toBeInstanceOf(TransactionCanceledException);
    expect(cancelled.name).toBe('TransactionCanceledException');
    expect(cancelled.message).toBe(
      'Transaction cancelled, please refer cancellation reasons ' +
        'for specific reasons [None, ConditionalCheckFailed, None, ' +
        'ConditionalCheckFailed]',
    );
    expect(cancelled.CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { pk: S('cx-1'), owner: S('carol'), v: N(1) },
      },
      { Code: 'None' },
      // ALL_OLD, but there is no item to return.
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);

    expect(await scanAll(h.client, 'devices')).toEqual(tableBefore);
    expect(await queryIndex(h.client, 'devices', 'byOwner', 'owner', 'carol')).toEqual(indexBefore);
    expect(await queryIndex(h.client, 'devices', 'byOwner', 'owner', 'dave')).toEqual([]);
    expect(changes.records).toEqual([]);
    changes.stop();
  });

  test('the cancellation surfaces through the document client with CancellationReasons', async () => {
    await expect(
      h.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: 'ledger', Item: { pk: 'x', sk: 1 } } },
            {
              ConditionCheck: {
                TableName: 'ledger',
                Key: { pk: 'nope', sk: 1 },
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      ],
    });
    expect(await getItem('ledger', { pk: S('x'), sk: N(1) })).toBeUndefined();
  });

  test('an action that fails while being applied cancels with a ValidationError reason', async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'devices', Item: { pk: S('ve-1'), owner: S('erin'), label: S('text') } }),
    );
    await expect(
      h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'devices', Item: { pk: S('ve-2'), owner: S('erin') } } },
            {
              Update: {
                TableName: 'devices',
                Key: { pk: S('ve-1') },
                UpdateExpression: 'SET label = label + :one',
                ExpressionAttributeValues: { ':one': N(1) },
              },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'ValidationError', Message: 'An operand in the update expression has an incorrect data type' },
      ],
    });
    expect(await getItem('devices', { pk: S('ve-2') })).toBeUndefined();
  });

  test('two actions on one item are a ValidationException, before anything is locked or applied', async () => {
    const send = () =>
      h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'devices', Item: { pk: S('dup-1'), owner: S('x') } } },
            {
              ConditionCheck: {
                TableName: 'devices',
                Key: { pk: S('dup-1') },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    await expect(send()).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Transaction request cannot include multiple operations on one item',
    });
    // The item lock was never taken: a single-item write on it goes through at once.
    await h.client.send(new PutItemCommand({ TableName: 'devices', Item: { pk: S('dup-1'), owner: S('y') } }));
    expect(await getItem('devices', { pk: S('dup-1') })).toEqual({ pk: S('dup-1'), owner: S('y') });
  });

  test('accepts 100 actions and rejects 101, and rejects an empty list', async () => {
    const puts = (count: number): TransactWriteItem[] =>
      Array.from({ length: count }, (_, i) => ({ Put: { TableName: 'ledger', Item: { pk: S('hundred'), sk: N(i) } } }));
    await h.client.send(new TransactWriteItemsCommand({ TransactItems: puts(100) }));
    expect((await scanAll(h.client, 'ledger')).filter((item) => item.pk?.S === 'hundred')).toHaveLength(100);

    await expect(h.client.send(new TransactWriteItemsCommand({ TransactItems: puts(101) }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length less than or equal to 100'),
    });
    await expect(h.client.send(new TransactWriteItemsCommand({ TransactItems: [] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length greater than or equal to 1'),
    });
  });

  test('rejects malformed actions with ValidationException', async () => {
    const cases: TransactWriteItem[][] = [
      // Key does not match the schema.
      [{ Delete: { TableName: 'devices', Key: { owner: S('x') } } }],
      // An item without its key.
      [{ Put: { TableName: 'devices', Item: { owner: S('x') } } }],
      // Updating a key attribute.
      [
        {
          Update: {
            TableName: 'devices',
            Key: { pk: S('k') },
            UpdateExpression: 'SET pk = :v',
            ExpressionAttributeValues: { ':v': S('v') },
          },
        },
      ],
      // ConditionCheck needs a condition; Update needs an update expression.
      [{ ConditionCheck: { TableName: 'devices', Key: { pk: S('k') } } as never }],
      [{ Update: { TableName: 'devices', Key: { pk: S('k') } } as never }],
      // An unused expression attribute value.
      [{ Put: { TableName: 'devices', Item: { pk: S('k') }, ExpressionAttributeValues: { ':unused': S('x') } } }],
      // Two operations in one action.
      [
        {
          Put: { TableName: 'devices', Item: { pk: S('k') } },
          Delete: { TableName: 'devices', Key: { pk: S('k') } },
        } as never,
      ],
    ];
    for (const TransactItems of cases) {
      await expect(h.client.send(new TransactWriteItemsCommand({ TransactItems }))).rejects.toMatchObject({
        name: 'ValidationException',
      });
    }
    expect(await getItem('devices', { pk: S('k') })).toBeUndefined();
  });

  test('a missing table is a ResourceNotFoundException', async () => {
    await expect(
      h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'no-such-table', Item: { pk: S('x') } } }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  describe('ClientRequestToken', () => {
    const increment = (token: string, by = 1) =>
      new TransactWriteItemsCommand({
        ClientRequestToken: token,
        TransactItems: [
          {
            Update: {
              TableName: 'counters',
              Key: { id: S('idem') },
              UpdateExpression: 'ADD n :by',
              ExpressionAttributeValues: { ':by': N(by) },
            },
          },
        ],
      });

    test('the same token and parameters succeed again without applying twice', async () => {
      const changes = recordChanges(h.engine);
      await expect(h.client.send(increment('token-1'))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
      await expect(h.client.send(increment('token-1'))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
      expect(await getItem('counters', { id: S('idem') })).toEqual({ id: S('idem'), n: N(1) });
      expect(changes.records).toHaveLength(1);
      changes.stop();
    });

    test('the same token with different parameters is an IdempotentParameterMismatchException', async () => {
      await h.client.send(increment('token-2'));
      await expect(h.client.send(increment('token-2', 5))).rejects.toMatchObject({
        name: 'IdempotentParameterMismatchException',
      });
      expect(await getItem('counters', { id: S('idem') })).toEqual({ id: S('idem'), n: N(2) });
    });

    test('a token whose transaction was cancelled can be used again', async () => {
      const guarded = (expected: number) =>
        new TransactWriteItemsCommand({
          ClientRequestToken: 'token-3',
          TransactItems: [
            {
              Update: {
                TableName: 'counters',
                Key: { id: S('idem') },
                UpdateExpression: 'ADD n :one',
                ConditionExpression: 'n = :expected',
                ExpressionAttributeValues: { ':one': N(1), ':expected': N(expected) },
              },
            },
          ],
        });
      await expect(h.client.send(guarded(99))).rejects.toMatchObject({ name: 'TransactionCanceledException' });
      await expect(h.client.send(guarded(2))).resolves.toBeDefined();
      expect(await getItem('counters', { id: S('idem') })).toEqual({ id: S('idem'), n: N(3) });
    });

    test('the SDK sends a fresh token per call, so identical calls both apply', async () => {
      const command = () =>
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: 'counters',
                Key: { id: S('fresh') },
                UpdateExpression: 'ADD n :one',
                ExpressionAttributeValues: { ':one': N(1) },
              },
            },
          ],
        });
      await h.client.send(command());
      await h.client.send(command());
      expect(await getItem('counters', { id: S('fresh') })).toEqual({ id: S('fresh'), n: N(2) });
    });

    test('the token cache forgets tokens 10 minutes after completion and stays bounded', () => {
      let now = 0;
      const cache = new IdempotencyCache(10 * 60_000, 3, () => now);
      expect(cache.begin('a', 'params')).toBe('run');
      expect(() => cache.begin('a', 'params')).toThrow(
        expect.objectContaining({
          body: expect.objectContaining({ __type: expect.stringContaining('TransactionInProgressException') }),
        }),
      );
      cache.complete('a');
      expect(cache.begin('a', 'params')).toBe('replay');
      expect(() => cache.begin('a', 'other')).toThrow(
        expect.objectContaining({
          body: expect.objectContaining({ __type: expect.stringContaining('IdempotentParameterMismatchException') }),
        }),
      );
      now = 10 * 60_000 - 1;
      expect(cache.begin('a', 'params')).toBe('replay');
      now = 10 * 60_000;
      expect(cache.size).toBe(0);
      expect(cache.begin('a', 'other')).toBe('run'); // a new request
      cache.abort('a');
      for (const token of ['t1', 't2', 't3', 't4']) {
        cache.begin(token, 'p');
        cache.complete(token);
      }
      expect(cache.size).toBe(3); // the oldest was dropped
      expect(cache.begin('t1', 'different')).toBe('run');
    });
  });

  // Sizes: each increment is an HTTP round trip and a lock hand-over on one hot item; the soak tier runs 200 by 16.
  const INCREMENTS = bySize(64, 200);
  const CONTENDERS = bySize(8, 16);
  test(
    `${INCREMENTS} increments by ${CONTENDERS} concurrent optimistic ` +
      `transactions (retrying cancellations) end at exactly ${INCREMENTS}`,
    async () => {
      await h.client.send(new PutItemCommand({ TableName: 'counters', Item: { id: S('hot'), n: N(0) } }));
      let remaining = INCREMENTS;
      let cancellations = 0;
      const worker = async (workerId: number) => {
        // Optimistic concurrency: write `current + 1` on condition that the counter is still `current`;
        // a cancellation returns the counter as it is now (ALL_OLD), to retry with.
        let current = Number((await getItem('counters', { id: S('hot') }))?.n?.N);
        while (remaining > 0) {
          remaining--;
          for (let attempt = 1; ; attempt++) {
            try {
              await h.client.send(
                new TransactWriteItemsCommand({
                  TransactItems: [
                    {
                      Update: {
                        TableName: 'counters',
                        Key: { id: S('hot') },
                        UpdateExpression: 'SET n = :next',
                        ConditionExpression: 'n = :current',
                        ExpressionAttributeValues: { ':next': N(current + 1), ':current': N(current) },
                        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                      },
                    },
                    {
                      Put: {
                        TableName: 'ledger',
                        Item: { pk: S('hot-log'), sk: N(current + 1), by: N(workerId) },
                        ConditionExpression: 'attribute_not_exists(pk)',
                      },
                    },
                    {
                      Update: {
                        TableName: 'counters',
                        Key: { id: S(`worker-${workerId}`) },
                        UpdateExpression: 'ADD n :one',
                        ExpressionAttributeValues: { ':one': N(1) },
                      },
                    },
                    {
                      ConditionCheck: {
                        TableName: 'devices',
                        Key: { pk: S('never-there') },
                        ConditionExpression: 'attribute_not_exists(pk)',
                      },
                    },
                  ],
                }),
              );
              current++;
              break;
            } catch (err) {
              if (!(err instanceof TransactionCanceledException)) throw err;
              cancellations++;
              current = Number(err.CancellationReasons?.[0]?.Item?.n?.N);
              // Jittered exponential backoff, as the SDK retry strategies do. The cap is high enough for
              // the contenders to spread out: with a low one (16 ms) all 16 workers keep colliding, and
              // on a loaded machine the thousands of wasted attempts could outlast the test timeout.
              await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(256, 2 ** attempt)));
            }
          }
        }
      };
      await Promise.all(Array.from({ length: CONTENDERS }, (_, i) => worker(i)));

      expect(await getItem('counters', { id: S('hot') })).toEqual({ id: S('hot'), n: N(INCREMENTS) });
      const log = (await scanAll(h.client, 'ledger')).filter((item) => item.pk?.S === 'hot-log');
      expect(log.map((item) => Number(item.sk?.N)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: INCREMENTS }, (_, i) => i + 1),
      );
      let perWorker = 0;
      for (let i = 0; i < CONTENDERS; i++)
        perWorker += Number((await getItem('counters', { id: S(`worker-${i}`) }))?.n?.N ?? 0);
      expect(perWorker).toBe(INCREMENTS);
      expect(cancellations).toBeGreaterThan(0); // the contention was real
    },
  );

  const LOCKERS = bySize(8, 16);
  const ROUNDS = bySize(6, 12);
  test('overlapping transactions in every order, mixed with single-item writes, never deadlock', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    let committed = 0;
    let singles = 0;
    const shuffled = <T>(list: T[]) => [...list].sort(() => Math.random() - 0.5);
    const worker = async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const picked = shuffled(keys).slice(0, 3);
        await h.client.send(
          new TransactWriteItemsCommand({
            TransactItems: picked.map(
              (key, i): TransactWriteItem => ({
                Update: {
                  TableName: i % 2 ? 'counters' : 'devices',
                  Key: { [i % 2 ? 'id' : 'pk']: S(`dl-${key}`) },
                  UpdateExpression: 'ADD n :one',
                  ExpressionAttributeValues: { ':one': N(1) },
                },
              }),
            ),
          }),
        );
        committed++;
        await h.client.send(
          new UpdateItemCommand({
            TableName: 'counters',
            Key: { id: S(`dl-${picked[0]}`) },
            UpdateExpression: 'ADD s :one',
            ExpressionAttributeValues: { ':one': N(1) },
          }),
        );
        singles++;
      }
    };
    await Promise.all(Array.from({ length: LOCKERS }, worker));

    let total = 0;
    let singleTotal = 0;
    for (const key of keys) {
      total += Number((await getItem('devices', { pk: S(`dl-${key}`) }))?.n?.N ?? 0);
      const counter = await getItem('counters', { id: S(`dl-${key}`) });
      total += Number(counter?.n?.N ?? 0);
      singleTotal += Number(counter?.s?.N ?? 0);
    }
    expect(committed).toBe(LOCKERS * ROUNDS);
    expect(total).toBe(3 * committed);
    expect(singleTotal).toBe(singles);
  });
});

describe('TransactGetItems', () => {
  beforeAll(async () => {
    await h.client.send(
      new PutItemCommand({
        TableName: 'devices',
        Item: { pk: S('tg-1'), owner: S('gina'), meta: { M: { a: N(1), b: S('x') } } },
      }),
    );
    await h.client.send(new PutItemCommand({ TableName: 'ledger', Item: { pk: S('tg'), sk: N(1), v: S('one') } }));
  });

  test('returns one response per Get, in order, {} for a missing item, with projections', async () => {
    const { Responses } = await h.client.send(
      new TransactGetItemsCommand({
        TransactItems: [
          {
            Get: {
              TableName: 'devices',
              Key: { pk: S('tg-1') },
              ProjectionExpression: '#m.#a, pk',
              ExpressionAttributeNames: { '#m': 'meta', '#a': 'a' },
            },
          },
          { Get: { TableName: 'devices', Key: { pk: S('tg-missing') } } },
          { Get: { TableName: 'ledger', Key: { pk: S('tg'), sk: N(1) } } },
        ],
      }),
    );
    expect(Responses).toEqual([
      { Item: { pk: S('tg-1'), meta: { M: { a: N(1) } } } },
      {},
      { Item: { pk: S('tg'), sk: N(1), v: S('one') } },
    ]);
  });

  test('rejects duplicates, more than 100 Gets, and a missing table', async () => {
    await expect(
      h.client.send(
        new TransactGetItemsCommand({
          TransactItems: [
            { Get: { TableName: 'devices', Key: { pk: S('tg-1') } } },
            { Get: { TableName: 'devices', Key: { pk: S('tg-1') } } },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      h.client.send(
        new TransactGetItemsCommand({
          TransactItems: Array.from({ length: 101 }, (_, i) => ({
            Get: { TableName: 'devices', Key: { pk: S(`g${i}`) } },
          })),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      h.client.send(
        new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: 'nope-table', Key: { pk: S('x') } } }] }),
      ),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  test('reads a consistent snapshot while transfers run concurrently', async () => {
    await h.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: 'counters', Item: { id: 'acct-a', balance: 100 } } },
          { Put: { TableName: 'counters', Item: { id: 'acct-b', balance: 0 } } },
        ],
      }),
    );
    let transfers = true;
    const transfer = async () => {
      while (transfers) {
        const [from, to] = Math.random() < 0.5 ? ['acct-a', 'acct-b'] : ['acct-b', 'acct-a'];
        await h.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: 'counters',
                  Key: { id: from },
                  UpdateExpression: 'SET balance = balance - :x',
                  ExpressionAttributeValues: { ':x': 7 },
                },
              },
              {
                Update: {
                  TableName: 'counters',
                  Key: { id: to },
                  UpdateExpression: 'SET balance = balance + :x',
                  ExpressionAttributeValues: { ':x': 7 },
                },
              },
            ],
          }),
        );
      }
    };
    const runners = Array.from({ length: 4 }, transfer);
    const sums: number[] = [];
    for (let i = 0; i < 60; i++) {
      const { Responses } = await h.doc.send(
        new TransactGetCommand({
          TransactItems: [
            { Get: { TableName: 'counters', Key: { id: 'acct-a' } } },
            { Get: { TableName: 'counters', Key: { id: 'acct-b' } } },
          ],
        }),
      );
      sums.push(Number(Responses?.[0]?.Item?.balance) + Number(Responses?.[1]?.Item?.balance));
    }
    transfers = false;
    await Promise.all(runners);
    expect(new Set(sums)).toEqual(new Set([100]));
    const a = await h.doc.send(new GetCommand({ TableName: 'counters', Key: { id: 'acct-a' } }));
    const b = await h.doc.send(new GetCommand({ TableName: 'counters', Key: { id: 'acct-b' } }));
    expect(Number(a.Item?.balance) + Number(b.Item?.balance)).toBe(100);
  });
});
