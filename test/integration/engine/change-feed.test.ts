/**
 * Change feed conformance: one record per item written by every write API, with DynamoDB Streams'
 * semantics (INSERT / MODIFY / REMOVE, keys, old and new images), in commit order.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { startEngine, type ChangeRecord } from '@device-manager/local-engine';
import { clientFor, createTable, recordChanges, startHarness, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await createTable(h.client, 'things', { hash: 'pk', range: 'sk', gsis: { byColor: { hash: 'color' } } });
  await createTable(h.client, 'others', { hash: 'id' });
});

afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const N = (value: number) => ({ N: String(value) });

/** Records emitted while `action` runs. */
async function changesDuring(action: () => Promise<unknown>): Promise<ChangeRecord[]> {
  const changes = recordChanges(h.engine);
  try {
    await action();
    return changes.records;
  } finally {
    changes.stop();
  }
}

test('PutItem of a new item is an INSERT with the keys and the new image only', async () => {
  const before = Math.floor(Date.now() / 1000);
  const records = await changesDuring(() =>
    h.client.send(
      new PutItemCommand({ TableName: 'things', Item: { pk: S('p1'), sk: S('a'), color: S('red'), n: N(1) } }),
    ),
  );
  expect(records).toEqual([
    {
      eventID: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventName: 'INSERT',
      tableName: 'things',
      keys: { pk: S('p1'), sk: S('a') },
      newImage: { pk: S('p1'), sk: S('a'), color: S('red'), n: N(1) },
      sequenceNumber: expect.stringMatching(/^\d{21,40}$/),
      approximateCreationDateTime: expect.any(Number),
    },
  ]);
  const [record] = records;
  expect(record).not.toHaveProperty('oldImage');
  // The time of the write, in whole seconds.
  expect(record!.approximateCreationDateTime).toBeGreaterThanOrEqual(before);
  expect(record!.approximateCreationDateTime).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  expect(Number.isInteger(record!.approximateCreationDateTime)).toBe(true);
});

test(
  'PutItem over an item, UpdateItem and DeleteItem are MODIFY, ' + 'MODIFY and REMOVE with the right images',
  async () => {
    await h.client.send(new PutItemCommand({ TableName: 'things', Item: { pk: S('p2'), sk: S('a'), n: N(1) } }));
    const records = await changesDuring(async () => {
      await h.client.send(
        new PutItemCommand({ TableName: 'things', Item: { pk: S('p2'), sk: S('a'), n: N(2), extra: S('x') } }),
      );
      await h.client.send(
        new UpdateItemCommand({
          TableName: 'things',
          Key: { pk: S('p2'), sk: S('a') },
          UpdateExpression: 'SET n = n + :one REMOVE extra',
          ExpressionAttributeValues: { ':one': N(1) },
        }),
      );
      await h.client.send(new DeleteItemCommand({ TableName: 'things', Key: { pk: S('p2'), sk: S('a') } }));
    });
    expect(records.map(({ eventName, keys, oldImage, newImage }) => ({ eventName, keys, oldImage, newImage }))).toEqual(
      [
        {
          eventName: 'MODIFY',
          keys: { pk: S('p2'), sk: S('a') },
          oldImage: { pk: S('p2'), sk: S('a'), n: N(1) },
          newImage: { pk: S('p2'), sk: S('a'), n: N(2), extra: S('x') },
        },
        {
          eventName: 'MODIFY',
          keys: { pk: S('p2'), sk: S('a') },
          oldImage: { pk: S('p2'), sk: S('a'), n: N(2), extra: S('x') },
          newImage: { pk: S('p2'), sk: S('a'), n: N(3) },
        },
        {
          eventName: 'REMOVE',
          keys: { pk: S('p2'), sk: S('a') },
          oldImage: { pk: S('p2'), sk: S('a'), n: N(3) },
          newImage: undefined,
        },
      ],
    );
    expect(records[2]).not.toHaveProperty('newImage');
  },
);

test('UpdateItem of a missing item is an INSERT', async () => {
  const records = await changesDuring(() =>
    h.client.send(
      new UpdateItemCommand({
        TableName: 'things',
        Key: { pk: S('p3'), sk: S('a') },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': N(1) },
      }),
    ),
  );
  expect(records).toMatchObject([{ eventName: 'INSERT', newImage: { pk: S('p3'), sk: S('a'), n: N(1) } }]);
});

test(
  'writes that change nothing yield no record: failed conditions, ' + 'deleting a missing item, an identical Put',
  async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'things', Item: { pk: S('p4'), sk: S('a'), tags: { SS: ['x', 'y'] } } }),
    );
    const records = await changesDuring(async () => {
      await expect(
        h.client.send(
          new PutItemCommand({
            TableName: 'things',
            Item: { pk: S('p4'), sk: S('a') },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      await expect(
        h.client.send(
          new DeleteItemCommand({
            TableName: 'things',
            Key: { pk: S('p4'), sk: S('a') },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      await h.client.send(new DeleteItemCommand({ TableName: 'things', Key: { pk: S('missing'), sk: S('a') } }));
      // Same data (a set in another order is the same set): DynamoDB Streams writes no record.
      await h.client.send(
        new PutItemCommand({ TableName: 'things', Item: { pk: S('p4'), sk: S('a'), tags: { SS: ['y', 'x'] } } }),
      );
      await h.client.send(
        new UpdateItemCommand({
          TableName: 'things',
          Key: { pk: S('p4'), sk: S('a') },
          UpdateExpression: 'SET tags = tags',
        }),
      );
    });
    expect(records).toEqual([]);
  },
);

test('the engine option emitUnchangedWrites emits MODIFY for an identical Put', async () => {
  const engine = await startEngine({ emitUnchangedWrites: true });
  const client = clientFor(engine);
  try {
    await createTable(client, 'plain', { hash: 'id' });
    const records: ChangeRecord[] = [];
    engine.onChange((batch) => records.push(...batch));
    await client.send(new PutItemCommand({ TableName: 'plain', Item: { id: S('a') } }));
    await client.send(new PutItemCommand({ TableName: 'plain', Item: { id: S('a') } }));
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY']);
  } finally {
    client.destroy();
    await engine.stop();
  }
});

test('BatchWriteItem yields one record per item written, across tables', async () => {
  await h.client.send(new PutItemCommand({ TableName: 'others', Item: { id: S('gone') } }));
  const records = await changesDuring(() =>
    h.client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          things: [1, 2, 3].map((i) => ({ PutRequest: { Item: { pk: S('batch'), sk: S(String(i)) } } })),
          others: [{ DeleteRequest: { Key: { id: S('gone') } } }, { DeleteRequest: { Key: { id: S('never-there') } } }],
        },
      }),
    ),
  );
  expect(records.map((r) => `${r.tableName} ${r.eventName} ${JSON.stringify(r.keys)}`).sort()).toEqual([
    'others REMOVE {"id":{"S":"gone"}}',
    'things INSERT {"pk":{"S":"batch"},"sk":{"S":"1"}}',
    'things INSERT {"pk":{"S":"batch"},"sk":{"S":"2"}}',
    'things INSERT {"pk":{"S":"batch"},"sk":{"S":"3"}}',
  ]);
});

test(
  'TransactWriteItems yields one record per item written (not ' +
    'per ConditionCheck), in request order, in one delivery',
  async () => {
    await h.client.send(new PutItemCommand({ TableName: 'things', Item: { pk: S('tx'), sk: S('old'), n: N(1) } }));
    await h.client.send(new PutItemCommand({ TableName: 'others', Item: { id: S('tx-check') } }));
    const changes = recordChanges(h.engine);
    await h.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: 'things',
              Key: { pk: S('tx'), sk: S('old') },
              UpdateExpression: 'SET n = :two',
              ExpressionAttributeValues: { ':two': N(2) },
            },
          },
          {
            ConditionCheck: {
              TableName: 'others',
              Key: { id: S('tx-check') },
              ConditionExpression: 'attribute_exists(id)',
            },
          },
          { Put: { TableName: 'things', Item: { pk: S('tx'), sk: S('new'), color: S('blue') } } },
          { Delete: { TableName: 'others', Key: { id: S('tx-check-2') } } }, // missing: nothing written
        ],
      }),
    );
    await h.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Delete: { TableName: 'things', Key: { pk: S('tx'), sk: S('old') } } }],
      }),
    );
    changes.stop();

    expect(changes.batches.map((batch) => batch.map((r) => `${r.eventName} ${r.keys.sk?.S}`))).toEqual([
      ['MODIFY old', 'INSERT new'],
      ['REMOVE old'],
    ]);
    expect(changes.records[0]).toMatchObject({ oldImage: { n: N(1) }, newImage: { n: N(2) } });
    expect(changes.records[2]).toMatchObject({ oldImage: { pk: S('tx'), sk: S('old'), n: N(2) } });
  },
);

test('a cancelled transaction yields nothing', async () => {
  const records = await changesDuring(() =>
    expect(
      h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'things', Item: { pk: S('cancel'), sk: S('a') } } },
            {
              ConditionCheck: {
                TableName: 'others',
                Key: { id: S('nope') },
                ConditionExpression: 'attribute_exists(id)',
              },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'TransactionCanceledException' }),
  );
  expect(records).toEqual([]);
});

test('sequence numbers strictly increase, as numbers and as strings, across APIs and tables', async () => {
  const records = await changesDuring(async () => {
    for (let i = 0; i < 5; i++) {
      await h.client.send(
        new PutItemCommand({
          TableName: i % 2 ? 'others' : 'things',
          Item: i % 2 ? { id: S(`seq-${i}`) } : { pk: S('seq'), sk: S(String(i)) },
        }),
      );
      await h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'others', Item: { id: S(`seq-tx-${i}`) } } }],
        }),
      );
    }
  });
  expect(records).toHaveLength(10);
  const sequence = records.map((r) => r.sequenceNumber);
  expect(new Set(sequence.map((s) => s.length)).size).toBe(1);
  for (let i = 1; i < sequence.length; i++) {
    expect(sequence[i]! > sequence[i - 1]!).toBe(true);
    expect(BigInt(sequence[i]!) > BigInt(sequence[i - 1]!)).toBe(true);
  }
  expect(new Set(records.map((r) => r.eventID)).size).toBe(10);
});

test(
  'concurrent writes to one item are recorded in commit order, ' + 'each old image being the previous new image',
  async () => {
    await h.client.send(new PutItemCommand({ TableName: 'things', Item: { pk: S('race'), sk: S('a'), n: N(0) } }));
    const records = await changesDuring(() =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 2
            ? h.client.send(
                new UpdateItemCommand({
                  TableName: 'things',
                  Key: { pk: S('race'), sk: S('a') },
                  UpdateExpression: 'ADD n :one',
                  ExpressionAttributeValues: { ':one': N(1) },
                }),
              )
            : h.client.send(
                new TransactWriteItemsCommand({
                  TransactItems: [
                    {
                      Update: {
                        TableName: 'things',
                        Key: { pk: S('race'), sk: S('a') },
                        UpdateExpression: 'ADD n :one',
                        ExpressionAttributeValues: { ':one': N(1) },
                      },
                    },
                  ],
                }),
              ),
        ),
      ),
    );
    expect(records.map((r) => Number(r.newImage?.n?.N))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    records.forEach((record, i) => expect(record.oldImage?.n).toEqual(N(i)));
  },
);

test(
  'listeners get copies of the stored items, can unsubscribe, ' + 'and a throwing listener does not fail the write',
  async () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: ChangeRecord[] = [];
    const unsubscribeThrowing = h.engine.onChange(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = h.engine.onChange((batch) => {
      seen.push(...batch);
      batch[0]!.newImage!.mutated = S('by listener');
    });
    try {
      await h.client.send(new PutItemCommand({ TableName: 'others', Item: { id: S('copy') } }));
      unsubscribe();
      unsubscribeThrowing();
      await h.client.send(new PutItemCommand({ TableName: 'others', Item: { id: S('after') } }));
      expect(errors).toHaveBeenCalledWith('[local-engine] change listener failed', expect.any(Error));
    } finally {
      errors.mockRestore();
    }
    expect(seen.map((r) => r.keys)).toEqual([{ id: S('copy') }]);
    const recorder = recordChanges(h.engine);
    await h.client.send(
      new UpdateItemCommand({
        TableName: 'others',
        Key: { id: S('copy') },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': N(1) },
      }),
    );
    recorder.stop();
    expect(recorder.records[0]?.oldImage).toEqual({ id: S('copy') }); // the stored item was not mutated
  },
);
