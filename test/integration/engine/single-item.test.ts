/**
 * The parts of stock dynalite the device manager relies on, checked against DynamoDB's documented
 * behaviour: conditional single-item writes, GSI queries with pagination, sparse GSIs and
 * nested-attribute updates.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand as DocQueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, queryIndex, startHarness, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await createTable(h.client, 'fleet', {
    hash: 'pk',
    gsis: {
      bySite: { hash: 'site', range: 'serial' },
      byAlarm: { hash: 'alarm', projection: 'KEYS_ONLY' }, // sparse: only items with an alarm
    },
  });
});

afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const N = (value: number) => ({ N: String(value) });

describe('conditional writes', () => {
  test('PutItem with attribute_not_exists creates once, then fails with ConditionalCheckFailedException', async () => {
    const create = () =>
      h.client.send(
        new PutItemCommand({
          TableName: 'fleet',
          Item: { pk: S('c-1'), v: N(1) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await create();
    await expect(create()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(create()).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
    });
  });

  test('ReturnValuesOnConditionCheckFailure ALL_OLD returns the item with the exception', async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'fleet', Item: { pk: S('c-2'), v: N(1), state: S('active') } }),
    );
    await expect(
      h.client.send(
        new UpdateItemCommand({
          TableName: 'fleet',
          Key: { pk: S('c-2') },
          UpdateExpression: 'SET v = :v',
          ConditionExpression: '#s = :retired',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':v': N(2), ':retired': S('retired') },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
      Item: { pk: S('c-2'), v: N(1), state: S('active') },
    });
    // Without it, no item.
    const err = await h.client
      .send(
        new DeleteItemCommand({
          TableName: 'fleet',
          Key: { pk: S('c-2') },
          ConditionExpression: 'v > :five',
          ExpressionAttributeValues: { ':five': N(5) },
        }),
      )
      .catch((e: unknown) => e as ConditionalCheckFailedException);
    expect(err).toBeInstanceOf(ConditionalCheckFailedException);
    expect((err as ConditionalCheckFailedException).Item).toBeUndefined();
  });

  test('optimistic locking with a version attribute, comparison and functions in conditions', async () => {
    await h.doc.send(
      new PutCommand({ TableName: 'fleet', Item: { pk: 'c-3', version: 1, name: 'sensor-α', tags: new Set(['a']) } }),
    );
    const update = (expected: number) =>
      h.doc.send(
        new UpdateCommand({
          TableName: 'fleet',
          Key: { pk: 'c-3' },
          UpdateExpression: 'SET version = version + :one',
          ConditionExpression:
            'version = :expected AND begins_with(#n, :prefix) AND size(#n) ' +
            '< :max AND attribute_type(tags, :ss) AND contains(tags, :a)',
          ExpressionAttributeNames: { '#n': 'name' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':expected': expected,
            ':prefix': 'sensor',
            ':max': 20,
            ':ss': 'SS',
            ':a': 'a',
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    await expect(update(1)).resolves.toMatchObject({ Attributes: { version: 2 } });
    await expect(update(1)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((await h.doc.send(new GetCommand({ TableName: 'fleet', Key: { pk: 'c-3' } }))).Item?.version).toBe(2);
  });

  test('ReturnValues ALL_OLD on PutItem and DeleteItem', async () => {
    await h.client.send(new PutItemCommand({ TableName: 'fleet', Item: { pk: S('c-4'), v: N(1) } }));
    const replaced = await h.client.send(
      new PutItemCommand({ TableName: 'fleet', Item: { pk: S('c-4'), v: N(2) }, ReturnValues: 'ALL_OLD' }),
    );
    expect(replaced.Attributes).toEqual({ pk: S('c-4'), v: N(1) });
    const deleted = await h.client.send(
      new DeleteItemCommand({ TableName: 'fleet', Key: { pk: S('c-4') }, ReturnValues: 'ALL_OLD' }),
    );
    expect(deleted.Attributes).toEqual({ pk: S('c-4'), v: N(2) });
  });
});

describe('GSIs', () => {
  beforeAll(async () => {
    for (let i = 0; i < 25; i++) {
      await h.client.send(
        new PutItemCommand({
          TableName: 'fleet',
          Item: {
            pk: S(`dev-${i}`),
            site: S(i % 2 ? 'north' : 'south'),
            serial: S(`sn-${String(i).padStart(3, '0')}`),
          },
        }),
      );
    }
  });

  test('Query on a GSI pages with Limit / LastEvaluatedKey, in range-key order, both directions', async () => {
    const pages: string[][] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await h.client.send(
        new QueryCommand({
          TableName: 'fleet',
          IndexName: 'bySite',
          KeyConditionExpression: 'site = :site',
          ExpressionAttributeValues: { ':site': S('north') },
          Limit: 5,
          ExclusiveStartKey: start,
        }),
      );
      pages.push((page.Items ?? []).map((item) => item.serial!.S!));
      start = page.LastEvaluatedKey;
      if (start) expect(Object.keys(start).sort()).toEqual(['pk', 'serial', 'site']);
    } while (start);
    const expected = Array.from({ length: 12 }, (_, k) => `sn-${String(2 * k + 1).padStart(3, '0')}`);
    expect(pages.flat()).toEqual(expected);
    expect(pages.slice(0, 2).map((page) => page.length)).toEqual([5, 5]);

    const backwards = await h.doc.send(
      new DocQueryCommand({
        TableName: 'fleet',
        IndexName: 'bySite',
        KeyConditionExpression: 'site = :site AND serial BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':site': 'south', ':from': 'sn-004', ':to': 'sn-010' },
        ScanIndexForward: false,
      }),
    );
    expect(backwards.Items?.map((item) => item.serial)).toEqual(['sn-010', 'sn-008', 'sn-006', 'sn-004']);
  });

  test('a GSI follows updates that change its key', async () => {
    await h.client.send(
      new UpdateItemCommand({
        TableName: 'fleet',
        Key: { pk: S('dev-1') },
        UpdateExpression: 'SET site = :east',
        ExpressionAttributeValues: { ':east': S('east') },
      }),
    );
    expect((await queryIndex(h.client, 'fleet', 'bySite', 'site', 'east')).map((item) => item.pk?.S)).toEqual([
      'dev-1',
    ]);
    expect((await queryIndex(h.client, 'fleet', 'bySite', 'site', 'north')).map((item) => item.pk?.S)).not.toContain(
      'dev-1',
    );
  });

  test('a sparse GSI holds only items with its key attribute, with KEYS_ONLY projection', async () => {
    await h.client.send(
      new PutItemCommand({ TableName: 'fleet', Item: { pk: S('alarm-1'), alarm: S('on'), payload: S('big') } }),
    );
    await h.client.send(
      new PutItemCommand({ TableName: 'fleet', Item: { pk: S('alarm-2'), payload: S('no alarm attribute') } }),
    );
    await h.client.send(
      new UpdateItemCommand({
        TableName: 'fleet',
        Key: { pk: S('alarm-3') },
        UpdateExpression: 'SET alarm = :on',
        ExpressionAttributeValues: { ':on': S('on') },
      }),
    );
    expect(await queryIndex(h.client, 'fleet', 'byAlarm', 'alarm', 'on')).toEqual(
      expect.arrayContaining([
        { pk: S('alarm-1'), alarm: S('on') },
        { pk: S('alarm-3'), alarm: S('on') },
      ]),
    );
    expect(await queryIndex(h.client, 'fleet', 'byAlarm', 'alarm', 'on')).toHaveLength(2);

    // Removing the attribute (or the item) takes it out of the index.
    await h.client.send(
      new UpdateItemCommand({ TableName: 'fleet', Key: { pk: S('alarm-1') }, UpdateExpression: 'REMOVE alarm' }),
    );
    await h.client.send(new DeleteItemCommand({ TableName: 'fleet', Key: { pk: S('alarm-3') } }));
    expect(await queryIndex(h.client, 'fleet', 'byAlarm', 'alarm', 'on')).toEqual([]);
  });

  test('a GSI key attribute of the wrong type is rejected', async () => {
    await expect(
      h.client.send(new PutItemCommand({ TableName: 'fleet', Item: { pk: S('bad'), site: N(1) } })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Type mismatch for Index Key site'),
    });
  });
});

describe('nested-attribute updates', () => {
  test('SET / REMOVE / ADD / DELETE on map and list paths, list_append and if_not_exists', async () => {
    await h.doc.send(
      new PutCommand({
        TableName: 'fleet',
        Item: {
          pk: 'nested',
          config: { network: { ssid: 'home', channels: [1, 6] }, labels: ['a', 'b', 'c'] },
          tags: new Set(['x', 'y']),
          zones: new Set(['x', 'w']),
        },
      }),
    );
    // A path through a map that does not exist (`counters`) fails the whole update.
    await expect(
      h.doc.send(
        new UpdateCommand({
          TableName: 'fleet',
          Key: { pk: 'nested' },
          UpdateExpression: 'SET config.network.ssid = :ssid, counters.boots = :zero',
          ExpressionAttributeValues: { ':ssid': 'never', ':zero': 0 },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'The document path provided in the update expression is invalid for update',
    });

    const updated = await h.doc.send(
      new UpdateCommand({
        TableName: 'fleet',
        Key: { pk: 'nested' },
        UpdateExpression:
          'SET config.network.ssid = :ssid, config.network.channels[1] ' +
          '= :eleven, config.history = list_append(config.labels, :more), ' +
          'config.#fw = if_not_exists(config.#fw, :fw) ' +
          'REMOVE config.labels[0] ADD tags :z DELETE zones :x',
        ExpressionAttributeNames: { '#fw': 'firmware' },
        ExpressionAttributeValues: {
          ':ssid': 'office',
          ':eleven': 11,
          ':more': ['d'],
          ':fw': '1.0.0',
          ':z': new Set(['z']),
          ':x': new Set(['x']),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    // Operands read the item as it was before the update.
    expect(updated.Attributes).toEqual({
      pk: 'nested',
      config: {
        network: { ssid: 'office', channels: [1, 11] },
        labels: ['b', 'c'],
        history: ['a', 'b', 'c', 'd'],
        firmware: '1.0.0',
      },
      tags: new Set(['x', 'y', 'z']),
      zones: new Set(['w']),
    });

    // if_not_exists keeps an existing value.
    await h.doc.send(
      new UpdateCommand({
        TableName: 'fleet',
        Key: { pk: 'nested' },
        UpdateExpression: 'SET config.firmware = if_not_exists(config.firmware, :fw)',
        ExpressionAttributeValues: { ':fw': '2.0.0' },
      }),
    );
    const item = (
      await h.client.send(
        new GetItemCommand({
          TableName: 'fleet',
          Key: { pk: S('nested') },
          ProjectionExpression: 'config.firmware, config.network.channels[1]',
        }),
      )
    ).Item;
    expect(item).toEqual({ config: { M: { firmware: S('1.0.0'), network: { M: { channels: { L: [N(11)] } } } } } });
  });

  test('two updates of overlapping paths in one expression are rejected', async () => {
    await expect(
      h.client.send(
        new UpdateItemCommand({
          TableName: 'fleet',
          Key: { pk: S('nested') },
          UpdateExpression: 'SET config.a = :v REMOVE config',
          ExpressionAttributeValues: { ':v': N(1) },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Two document paths overlap'),
    });
  });
});
