/**
 * Stream feed conformance: DynamoDBStreamEvents as a Lambda event source mapping delivers them
 * (NEW_AND_OLD_IMAGES, ReportBatchItemFailures), in commit order, one batch at a time.
 */
import {
  DeleteItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { startStreamFeed, type StreamFeed, type StreamFeedOptions } from '@device-manager/local-engine/stream-feed';
import { createTable, startHarness, type Harness } from './support';

let h: Harness;
let feeds: StreamFeed[] = [];

beforeAll(async () => {
  h = await startHarness();
  await createTable(h.client, 'feed', { hash: 'pk' });
  await createTable(h.client, 'elsewhere', { hash: 'pk' });
});

afterEach(async () => {
  await Promise.all(feeds.map((feed) => feed.stop()));
  feeds = [];
});

afterAll(async () => {
  await h.close();
});

const S = (value: string) => ({ S: value });
const N = (value: number) => ({ N: String(value) });

function feed(options: Omit<StreamFeedOptions, 'engine' | 'tableName'> & { tableName?: string }): StreamFeed {
  const started = startStreamFeed({ engine: h.engine, tableName: 'feed', ...options });
  feeds.push(started);
  return started;
}

const put = (pk: string, extra: Record<string, { S: string } | { N: string }> = {}) =>
  h.client.send(new PutItemCommand({ TableName: 'feed', Item: { pk: S(pk), ...extra } }));

const keysOf = (records: DynamoDBRecord[]) => records.map((record) => record.dynamodb?.Keys?.pk?.S);

test('delivers Lambda DynamoDBStreamEvent records, NEW_AND_OLD_IMAGES, for the one table only', async () => {
  const events: DynamoDBStreamEvent[] = [];
  const stream = feed({ handler: async (event) => void events.push(event) });
  await put('fmt', { n: N(1) });
  await h.client.send(new PutItemCommand({ TableName: 'elsewhere', Item: { pk: S('not-this-table') } }));
  await h.client.send(
    new UpdateItemCommand({
      TableName: 'feed',
      Key: { pk: S('fmt') },
      UpdateExpression: 'SET n = :two',
      ExpressionAttributeValues: { ':two': N(2) },
    }),
  );
  await h.client.send(new DeleteItemCommand({ TableName: 'feed', Key: { pk: S('fmt') } }));
  await stream.drain();

  const records = events.flatMap((event) => event.Records);
  const common = {
    eventID: expect.stringMatching(/^[0-9a-f]{32}$/),
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: expect.stringMatching(
      /^arn:aws:dynamodb:us-east-1:\d{12}:table\/feed\/stream\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/,
    ),
  };
  const streamRecord = {
    ApproximateCreationDateTime: expect.any(Number),
    SequenceNumber: expect.stringMatching(/^\d{21,40}$/),
    SizeBytes: expect.any(Number),
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  };
  expect(records).toEqual([
    {
      ...common,
      eventName: 'INSERT',
      dynamodb: { ...streamRecord, Keys: { pk: S('fmt') }, NewImage: { pk: S('fmt'), n: N(1) } },
    },
    {
      ...common,
      eventName: 'MODIFY',
      dynamodb: {
        ...streamRecord,
        Keys: { pk: S('fmt') },
        OldImage: { pk: S('fmt'), n: N(1) },
        NewImage: { pk: S('fmt'), n: N(2) },
      },
    },
    {
      ...common,
      eventName: 'REMOVE',
      dynamodb: { ...streamRecord, Keys: { pk: S('fmt') }, OldImage: { pk: S('fmt'), n: N(2) } },
    },
  ]);
  expect(records[0]?.dynamodb?.SizeBytes).toBeGreaterThan(0);
  expect(new Set(records.map((record) => record.eventSourceARN)).size).toBe(1);
});

test('delivers in commit order, in batches of at most batchSize, one batch at a time', async () => {
  const batches: string[][] = [];
  let active = 0;
  let maxActive = 0;
  const stream = feed({
    batchSize: 4,
    handler: async (event) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 2));
      batches.push(keysOf(event.Records) as string[]);
      active--;
    },
  });
  for (let i = 0; i < 10; i++) await put(`order-${i}`);
  // Ten items written in one transaction are committed together.
  await h.client.send(
    new TransactWriteItemsCommand({
      TransactItems: Array.from({ length: 10 }, (_, i) => ({
        Put: { TableName: 'feed', Item: { pk: S(`order-tx-${i}`) } },
      })),
    }),
  );
  await stream.drain();

  expect(batches.flat()).toEqual([
    ...Array.from({ length: 10 }, (_, i) => `order-${i}`),
    ...Array.from({ length: 10 }, (_, i) => `order-tx-${i}`),
  ]);
  expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(4);
  expect(maxActive).toBe(1);
});

test('batchItemFailures: redelivers from the first failed record (lowest sequence number)', async () => {
  const deliveries: string[][] = [];
  let failedOnce = false;
  const stream = feed({
    handler: async (event): Promise<DynamoDBBatchResponse> => {
      deliveries.push(keysOf(event.Records) as string[]);
      if (failedOnce) return { batchItemFailures: [] };
      failedOnce = true;
      // Report two failures out of order: the checkpoint is the earlier one.
      const [, , third, , fifth] = event.Records;
      return {
        batchItemFailures: [
          { itemIdentifier: fifth!.dynamodb!.SequenceNumber! },
          { itemIdentifier: third!.dynamodb!.SequenceNumber! },
        ],
      };
    },
  });
  await h.client.send(
    new TransactWriteItemsCommand({
      TransactItems: ['a', 'b', 'c', 'd', 'e'].map((id) => ({
        Put: { TableName: 'feed', Item: { pk: S(`partial-${id}`) } },
      })),
    }),
  );
  await stream.drain();
  expect(deliveries).toEqual([
    ['partial-a', 'partial-b', 'partial-c', 'partial-d', 'partial-e'],
    ['partial-c', 'partial-d', 'partial-e'],
  ]);
});

test('a thrown error or an unknown itemIdentifier fails the whole batch, which is redelivered', async () => {
  const deliveries: string[][] = [];
  let calls = 0;
  const stream = feed({
    handler: async (event): Promise<DynamoDBBatchResponse | void> => {
      deliveries.push(keysOf(event.Records) as string[]);
      calls++;
      if (calls === 1) throw new Error('handler crashed');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] };
      if (calls === 3) return { batchItemFailures: [{ itemIdentifier: '' }] };
    },
  });
  await h.client.send(
    new TransactWriteItemsCommand({
      TransactItems: ['a', 'b'].map((id) => ({ Put: { TableName: 'feed', Item: { pk: S(`whole-${id}`) } } })),
    }),
  );
  await stream.drain();
  expect(deliveries).toEqual(Array.from({ length: 4 }, () => ['whole-a', 'whole-b']));
});

test('after maxRetries the failed records are logged and dropped, and delivery goes on', async () => {
  const logger = { error: jest.fn() };
  const deliveries: string[][] = [];
  const stream = feed({
    maxRetries: 2,
    logger,
    handler: async (event): Promise<DynamoDBBatchResponse> => {
      deliveries.push(keysOf(event.Records) as string[]);
      const poison = event.Records.find((record) => record.dynamodb?.Keys?.pk?.S === 'drop-poison');
      return { batchItemFailures: poison ? [{ itemIdentifier: poison.dynamodb!.SequenceNumber! }] : [] };
    },
  });
  await h.client.send(
    new TransactWriteItemsCommand({
      TransactItems: ['drop-ok', 'drop-poison', 'drop-tail'].map((id) => ({
        Put: { TableName: 'feed', Item: { pk: S(id) } },
      })),
    }),
  );
  await stream.drain();
  await put('drop-next');
  await stream.drain();

  expect(deliveries).toEqual([
    ['drop-ok', 'drop-poison', 'drop-tail'],
    ['drop-poison', 'drop-tail'], // retry 1
    ['drop-poison', 'drop-tail'], // retry 2, then dropped
    ['drop-next'],
  ]);
  expect(logger.error).toHaveBeenCalledTimes(1);
  expect(logger.error.mock.calls[0]?.[0]).toMatch(/dropping 2 record\(s\) after 3 failed attempt\(s\)/);
});

test(
  'drain resolves at once when nothing is pending, and only ' + 'after delivery otherwise; stop ends delivery',
  async () => {
    const delivered: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stream = feed({
      handler: async (event) => {
        await gate;
        delivered.push(...(keysOf(event.Records) as string[]));
      },
    });
    await stream.drain();
    await put('drain-1');
    let drained = false;
    const draining = stream.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    release();
    await draining;
    expect(delivered).toEqual(['drain-1']);

    await stream.stop();
    await put('after-stop');
    await stream.drain();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(delivered).toEqual(['drain-1']);
  },
);

describe('filter criteria (filters)', () => {
  const kinds = (records: DynamoDBRecord[]) => records.map((r) => r.dynamodb?.NewImage?.kind?.S ?? null);

  test('delivers only the records that match one of the patterns, in order, and moves past the others', async () => {
    const events: DynamoDBStreamEvent[] = [];
    const stream = feed({
      handler: async (event) => void events.push(event),
      consumer: 'filtered',
      filters: [
        { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['wanted'] } } } },
        { dynamodb: { Keys: { pk: { S: [{ prefix: 'always-' }] } } } },
      ],
    });
    await put('f-1', { kind: S('wanted') });
    await put('f-2', { kind: S('other') });
    await put('always-3', { kind: S('other') });
    // A MODIFY of a wanted item: the first pattern asks for INSERTs only.
    await put('f-1', { kind: S('wanted'), n: N(2) });
    await put('f-4', { kind: S('other') });
    await stream.drain();
    const delivered = events.flatMap((event) => event.Records);
    expect(keysOf(delivered)).toEqual(['f-1', 'always-3']);
    expect(kinds(delivered)).toEqual(['wanted', 'other']);
    // The checkpoint is past the last record, which no pattern matched: a restart delivers none of them.
    const all = await h.engine.stream.read('feed', undefined, 10_000);
    expect(await h.engine.stream.checkpoint('filtered')).toBe(all.at(-1)?.sequenceNumber);
  });

  test('a batch of records that all fail the filters reaches no handler', async () => {
    const handler = jest.fn(async () => undefined);
    const stream = feed({ handler, filters: [{ dynamodb: { NewImage: { kind: { S: ['nothing-has-this'] } } } }] });
    for (let i = 0; i < 5; i++) await put(`none-${i}`, { kind: S('other') });
    await stream.drain();
    expect(handler).not.toHaveBeenCalled();
  });

  test('refuses a pattern with an operator it does not know, at start', () => {
    expect(() =>
      feed({ handler: async () => undefined, filters: [{ dynamodb: { Keys: [{ numeric: ['>', 1] }] } }] }),
    ).toThrow(/unknown event pattern operator/);
    expect(() => feed({ handler: async () => undefined, filters: [{ eventName: 'INSERT' }] })).toThrow(
      /must be a list or an object/,
    );
  });
});
