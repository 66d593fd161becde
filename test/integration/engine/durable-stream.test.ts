/**
 * The durable stream: change records kept in the engine's store with the writes they describe,
 * readable in sequence order after a restart, trimmed after the retention period; stream-feed
 * consumers with a saved checkpoint resume after it, at least once, with stable ids.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { startStreamFeed } from '@device-manager/local-engine/stream-feed';
import { createTable, startHarness, type Harness } from './support';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'durable-stream-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const S = (value: string) => ({ S: value });
const put = (h: Harness, pk: string, table = 'things') =>
  h.client.send(new PutItemCommand({ TableName: table, Item: { pk: S(pk) } }));
const keysOf = (records: { keys: Record<string, unknown> }[]) =>
  records.map((record) => (record.keys.pk as { S: string }).S);

/** A handler that records what it is given. */
function collector() {
  const delivered: DynamoDBRecord[] = [];
  return {
    delivered,
    handler: async (event: DynamoDBStreamEvent) => {
      delivered.push(...event.Records);
    },
  };
}

test(
  'records of single-item writes and transactions are stored, ' + 'per table, in sequence order, and survive a restart',
  async () => {
    const dir = join(dataDir, 'stored');
    let h = await startHarness({ dataDir: dir });
    await createTable(h.client, 'things', { hash: 'pk' });
    await createTable(h.client, 'others', { hash: 'pk' });
    await put(h, 'a');
    await put(h, 'x', 'others');
    await h.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: 'things', Item: { pk: S('b') } } },
          { Put: { TableName: 'others', Item: { pk: S('y') } } },
          { Put: { TableName: 'things', Item: { pk: S('c') } } },
        ],
      }),
    );
    const before = await h.engine.stream.read('things', undefined, 100);
    expect(keysOf(before)).toEqual(['a', 'b', 'c']);
    expect(keysOf(await h.engine.stream.read('others', undefined, 100))).toEqual(['x', 'y']);
    expect(keysOf(await h.engine.stream.read('things', before[0]!.sequenceNumber, 1))).toEqual(['b']);
    await h.close();

    h = await startHarness({ dataDir: dir });
    try {
      expect(await h.engine.stream.read('things', undefined, 100)).toEqual(before);
      await put(h, 'd');
      const after = await h.engine.stream.read('things', undefined, 100);
      expect(keysOf(after)).toEqual(['a', 'b', 'c', 'd']);
      expect(after[3]!.sequenceNumber > before[2]!.sequenceNumber).toBe(true);
    } finally {
      await h.close();
    }
  },
);

test('in memory, the records stay out of the store and read as a data folder reads them', async () => {
  const writes = async (h: Harness) => {
    await createTable(h.client, 'things', { hash: 'pk' });
    await createTable(h.client, 'others', { hash: 'pk' });
    await put(h, 'a');
    await h.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: 'things', Item: { pk: S('b'), n: { N: '1' } } } },
          { Put: { TableName: 'others', Item: { pk: S('y') } } },
          { Put: { TableName: 'things', Item: { pk: S('c') } } },
        ],
      }),
    );
    await put(h, 'b');
    // What a reader can tell apart: everything but the numbers, ids and times each engine gives.
    const read = async (table: string, after?: string) =>
      (await h.engine.stream.read(table, after, 100)).map(({ eventName, keys, oldImage, newImage }) => ({
        eventName,
        keys,
        oldImage,
        newImage,
      }));
    const things = await h.engine.stream.read('things', undefined, 100);
    return {
      things: await read('things'),
      afterFirst: await read('things', things[0]!.sequenceNumber),
      others: await read('others'),
      reads: h.engine.stream.reads.store,
    };
  };
  // Every batch the in-memory store is given (the store behind dynalite's in-memory engine).
  const { MemoryLevel } = createRequire(require.resolve('dynalite/db'))('memory-level') as {
    MemoryLevel: { prototype: object };
  };
  const level = Object.getPrototypeOf(Object.getPrototypeOf(MemoryLevel.prototype)) as {
    batch: (ops: { key: string }[]) => unknown;
  };
  const batch = jest.spyOn(level, 'batch');
  const memory = await startHarness();
  let inMemory: Awaited<ReturnType<typeof writes>>;
  try {
    inMemory = await writes(memory);
  } finally {
    await memory.close();
  }
  const keys = batch.mock.calls.flatMap(([ops]) => (Array.isArray(ops) ? ops.map((op) => op.key) : []));
  batch.mockRestore();
  expect(keys.some((key) => key.startsWith('item-things~'))).toBe(true);
  expect(keys.filter((key) => key.startsWith('engine~stream~'))).toEqual([]);

  const stored = await startHarness({ dataDir: join(dataDir, 'memory-twin') });
  try {
    const inStore = await writes(stored);
    expect(inMemory).toEqual(inStore);
    expect(inStore.things.map((record) => record.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT', 'MODIFY']);
    // Each engine answered its three first reads from its retention copy (the tail answers no first read).
    expect(inMemory.reads).toBe(3);
  } finally {
    await stored.close();
  }
});

test('records older than the retention period are trimmed', async () => {
  const h = await startHarness();
  try {
    await createTable(h.client, 'things', { hash: 'pk' });
    await put(h, 'a');
    await put(h, 'b');
    expect(await h.engine.stream.trim()).toBe(0);
    expect(await h.engine.stream.read('things', undefined, 100)).toHaveLength(2);
    // A day and a minute later, both are past the 24 hours.
    expect(await h.engine.stream.trim(Date.now() + 24 * 3600_000 + 60_000)).toBe(2);
    expect(await h.engine.stream.read('things', undefined, 100)).toEqual([]);
  } finally {
    await h.close();
  }
});

test(
  'a consumer resumes after its checkpoint after a restart, ' + 'and gets what was written while it was away',
  async () => {
    const dir = join(dataDir, 'consumer');
    let h = await startHarness({ dataDir: dir });
    await createTable(h.client, 'things', { hash: 'pk' });
    await put(h, 'before-the-feed');
    const first = collector();
    let feed = startStreamFeed({ engine: h.engine, tableName: 'things', handler: first.handler, consumer: 'c1' });
    await put(h, 'one');
    await feed.drain();
    await feed.stop();
    await put(h, 'while-away');
    await h.close();

    h = await startHarness({ dataDir: dir });
    try {
      await put(h, 'after-restart');
      const second = collector();
      feed = startStreamFeed({ engine: h.engine, tableName: 'things', handler: second.handler, consumer: 'c1' });
      await feed.drain();
      await feed.stop();
      // The first run of a consumer starts from the oldest kept record.
      expect(first.delivered.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['before-the-feed', 'one']);
      expect(second.delivered.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['while-away', 'after-restart']);
      expect(await h.engine.stream.checkpoint('c1')).toBe(second.delivered.at(-1)?.dynamodb?.SequenceNumber);
    } finally {
      await h.close();
    }
  },
);

test(
  'the checkpoint moves only past handled records: a batch that ' + 'failed is delivered again, with the same ids',
  async () => {
    const h = await startHarness();
    try {
      await createTable(h.client, 'things', { hash: 'pk' });
      let failing = true;
      const attempts: DynamoDBRecord[][] = [];
      const handler = async (event: DynamoDBStreamEvent) => {
        attempts.push(event.Records);
        if (failing && event.Records.some((r) => r.dynamodb?.Keys?.pk?.S === 'poison')) {
          return {
            batchItemFailures: [
              {
                itemIdentifier: event.Records.find((r) => r.dynamodb?.Keys?.pk?.S === 'poison')!.dynamodb!
                  .SequenceNumber!,
              },
            ],
          };
        }
        return undefined;
      };
      // Retries without end while failing: stop the feed in between, as a crash would.
      const feed = startStreamFeed({
        engine: h.engine,
        tableName: 'things',
        handler,
        consumer: 'c2',
        batchSize: 10,
        maxRetries: 1_000_000,
      });
      await put(h, 'fine');
      await feed.drain();
      await put(h, 'poison');
      await put(h, 'later');
      while (attempts.filter((batch) => batch[0]?.dynamodb?.Keys?.pk?.S === 'poison').length < 3)
        await new Promise((resolve) => setImmediate(resolve));
      await feed.stop();
      const handled = await h.engine.stream.checkpoint('c2');
      const fine = attempts[0]![0]!;
      expect(handled).toBe(fine.dynamodb?.SequenceNumber);

      failing = false;
      const redelivered = collector();
      const again = startStreamFeed({
        engine: h.engine,
        tableName: 'things',
        handler: redelivered.handler,
        consumer: 'c2',
      });
      await again.drain();
      await again.stop();
      const firstPoison = attempts.find((batch) => batch[0]?.dynamodb?.Keys?.pk?.S === 'poison')![0]!;
      expect(redelivered.delivered.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['poison', 'later']);
      expect(redelivered.delivered[0]).toEqual(
        expect.objectContaining({
          eventID: firstPoison.eventID,
          dynamodb: expect.objectContaining({ SequenceNumber: firstPoison.dynamodb?.SequenceNumber }),
        }),
      );
    } finally {
      await h.close();
    }
  },
);

test('under concurrent writes every record is delivered once, in sequence order, none passed over', async () => {
  const h = await startHarness();
  try {
    await createTable(h.client, 'things', { hash: 'pk' });
    const seen = collector();
    const feed = startStreamFeed({
      engine: h.engine,
      tableName: 'things',
      handler: seen.handler,
      consumer: 'c3',
      batchSize: 7,
    });
    const ids = Array.from({ length: 300 }, (_, i) => `item-${i}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          await (next % 3 === 0
            ? h.client.send(
                new TransactWriteItemsCommand({
                  TransactItems: [{ Put: { TableName: 'things', Item: { pk: S(id) } } }],
                }),
              )
            : put(h, id));
        }
      }),
    );
    await feed.drain();
    await feed.stop();
    const sequences = seen.delivered.map((r) => r.dynamodb!.SequenceNumber!);
    expect([...sequences].sort()).toEqual(sequences);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(seen.delivered.map((r) => r.dynamodb?.Keys?.pk?.S).sort()).toEqual([...ids].sort());
  } finally {
    await h.close();
  }
});

test(
  'a reader that keeps up gets the newest records from memory, equal to the stored ones; ' +
    'a first read, and one from before the engine started, read the store',
  async () => {
    const dir = join(dataDir, 'tail');
    let h = await startHarness({ dataDir: dir });
    await createTable(h.client, 'things', { hash: 'pk' });
    await put(h, 'stored-before-a-restart');
    await h.close();

    h = await startHarness({ dataDir: dir });
    try {
      const start = h.engine.stream.watermark();
      await put(h, 'a');
      await h.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'things', Item: { pk: S('b'), n: { N: '1' } } } },
            { Put: { TableName: 'things', Item: { pk: S('c'), tags: { SS: ['x', 'y'] } } } },
          ],
        }),
      );
      await put(h, 'a'); // unchanged: no record
      await h.client.send(
        new TransactWriteItemsCommand({ TransactItems: [{ Delete: { TableName: 'things', Key: { pk: S('b') } } }] }),
      );
      const before = h.engine.stream.reads;
      const stored = await h.engine.stream.read('things', undefined, 100);
      const recent = await h.engine.stream.read('things', start, 100);
      const second = await h.engine.stream.read('things', recent[0]!.sequenceNumber, 2);
      const caughtUp = await h.engine.stream.read('things', recent.at(-1)!.sequenceNumber, 100);
      const fromBefore = await h.engine.stream.read('things', stored[0]!.sequenceNumber, 100);
      const after = h.engine.stream.reads;
      expect(after).toEqual({ memory: before.memory + 3, store: before.store + 2 });

      expect(keysOf(stored)).toEqual(['stored-before-a-restart', 'a', 'b', 'c', 'b']);
      expect(recent).toEqual(stored.slice(1));
      expect(recent.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT', 'REMOVE']);
      expect(second).toEqual(stored.slice(2, 4));
      expect(caughtUp).toEqual([]);
      expect(fromBefore).toEqual(stored.slice(1));
    } finally {
      await h.close();
    }
  },
);

test('the records kept in memory are dropped after a minute, and with the stored ones', async () => {
  const h = await startHarness();
  try {
    await createTable(h.client, 'things', { hash: 'pk' });
    const start = h.engine.stream.watermark();
    await put(h, 'a');
    const kept = await h.engine.stream.read('things', start, 100);
    expect(keysOf(kept)).toEqual(['a']);
    // A minute later the copy in memory is gone, the stored record is not: the store answers the same.
    let before = h.engine.stream.reads;
    expect(await h.engine.stream.trim(Date.now() + 61_000)).toBe(0);
    expect(await h.engine.stream.read('things', start, 100)).toEqual(kept);
    expect(h.engine.stream.reads).toEqual({ memory: before.memory, store: before.store + 1 });
    expect(await h.engine.stream.trim(Date.now() + 24 * 3600_000 + 60_000)).toBe(1);
    before = h.engine.stream.reads;
    expect(await h.engine.stream.read('things', start, 100)).toEqual([]);
    // The trimmed record is no longer in memory: the store answered, as before the trim.
    expect(h.engine.stream.reads.store).toBe(before.store + 1);
    await put(h, 'b');
    const after = await h.engine.stream.read('things', start, 100);
    expect(keysOf(after)).toEqual(['b']);
  } finally {
    await h.close();
  }
});

test('a stream feed that keeps up reads its batches from memory', async () => {
  const h = await startHarness();
  try {
    await createTable(h.client, 'things', { hash: 'pk' });
    const seen = collector();
    const before = h.engine.stream.reads;
    const feed = startStreamFeed({ engine: h.engine, tableName: 'things', handler: seen.handler, batchSize: 5 });
    for (let i = 0; i < 12; i++) await put(h, `item-${i}`);
    await feed.drain();
    await feed.stop();
    const after = h.engine.stream.reads;
    expect(seen.delivered.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(
      Array.from({ length: 12 }, (_, i) => `item-${i}`),
    );
    // An anonymous feed starts at the watermark, which the newest records in memory cover.
    expect(after.store).toBe(before.store);
    expect(after.memory).toBeGreaterThanOrEqual(3);
  } finally {
    await h.close();
  }
});
