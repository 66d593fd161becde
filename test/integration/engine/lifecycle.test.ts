/**
 * Engine lifecycle (ports, in-memory versus data folder, clean stop) and conflict injection.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { startEngine, type Engine } from '@device-manager/local-engine';
import { clientFor, createTable, queryIndex, scanAll } from './support';

const S = (value: string) => ({ S: value });
const N = (value: number) => ({ N: String(value) });

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'local-engine-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Resolves true if something accepts TCP connections on the port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function withEngine<T>(engine: Engine, body: (client: ReturnType<typeof clientFor>) => Promise<T>): Promise<T> {
  const client = clientFor(engine);
  try {
    return await body(client);
  } finally {
    client.destroy();
    await engine.stop();
  }
}

test('starts on a free port by default, on 127.0.0.1, and engines are independent in memory', async () => {
  const a = await startEngine();
  const b = await startEngine({ port: 0 });
  try {
    expect(a.endpoint).toBe(`http://127.0.0.1:${a.port}`);
    expect(a.port).toBeGreaterThan(0);
    expect(b.port).not.toBe(a.port);
    const clientA = clientFor(a);
    const clientB = clientFor(b);
    await createTable(clientA, 'only-in-a', { hash: 'pk' });
    expect((await clientA.send(new ListTablesCommand({}))).TableNames).toEqual(['only-in-a']);
    expect((await clientB.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    clientA.destroy();
    clientB.destroy();
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('starts on a given port, and stop frees it while an idle keep-alive client is still connected', async () => {
  const port = await freePort();
  const engine = await startEngine({ port });
  expect(engine.port).toBe(port);
  expect(engine.endpoint).toBe(`http://127.0.0.1:${port}`);
  const client = clientFor(engine);
  await client.send(new ListTablesCommand({})); // leaves a kept-alive socket open
  // The client keeps its connection (it is only destroyed below): stop must not wait for it to go.
  await engine.stop();
  await engine.stop(); // idempotent
  expect(await isListening(port)).toBe(false);
  // The kept-alive connection was closed too: the client gets no answer any more.
  await expect(client.send(new ListTablesCommand({}))).rejects.toThrow();
  client.destroy();

  // The port can be reused at once.
  const again = await startEngine({ port });
  expect(again.port).toBe(port);
  await again.stop();
});

test('a data folder keeps tables, items and indexes across a restart', async () => {
  const dir = join(dataDir, 'restart');
  await withEngine(await startEngine({ dataDir: dir }), async (client) => {
    await createTable(client, 'durable', { hash: 'pk', gsis: { byKind: { hash: 'kind', range: 'pk' } } });
    // LevelDB locks its folder: a second engine on it fails to start (instead of failing later).
    await expect(startEngine({ dataDir: dir })).rejects.toThrow(`cannot open the data folder ${dir}`);

    for (let i = 0; i < 20; i++)
      await client.send(
        new PutItemCommand({ TableName: 'durable', Item: { pk: S(`put-${i}`), kind: S('put'), i: N(i) } }),
      );
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: Array.from({ length: 25 }, (_, i) => ({
          Put: { TableName: 'durable', Item: { pk: S(`tx-${i}`), kind: S('tx') } },
        })),
      }),
    );
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          durable: Array.from({ length: 25 }, (_, i) => ({
            PutRequest: { Item: { pk: S(`batch-${i}`), kind: S('batch') } },
          })),
        },
      }),
    );
  });

  await withEngine(await startEngine({ dataDir: dir }), async (client) => {
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['durable']);
    expect(await scanAll(client, 'durable')).toHaveLength(70);
    expect((await client.send(new GetItemCommand({ TableName: 'durable', Key: { pk: S('put-7') } }))).Item).toEqual({
      pk: S('put-7'),
      kind: S('put'),
      i: N(7),
    });
    expect(await queryIndex(client, 'durable', 'byKind', 'kind', 'tx')).toHaveLength(25);
    expect(await queryIndex(client, 'durable', 'byKind', 'kind', 'batch')).toHaveLength(25);
  });
});

test('a table is ACTIVE as soon as CreateTable answers, and gone as soon as DeleteTable answers', async () => {
  // dynalite moves tables out of CREATING / DELETING on a timer after answering; the engine answers
  // once that is done. A data folder (slower writes than memory) and a few rounds make a
  // regression show.
  await withEngine(await startEngine({ dataDir: join(dataDir, 'table-status') }), async (client) => {
    for (let round = 0; round < 10; round++) {
      await createTable(client, 'churn', { hash: 'pk', gsis: { byKind: { hash: 'kind' } } });
      await client.send(new PutItemCommand({ TableName: 'churn', Item: { pk: S(`round-${round}`), kind: S('k') } }));
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'churn' }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexStatus)).toEqual(['ACTIVE']);
      await client.send(new DeleteTableCommand({ TableName: 'churn' }));
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    }
  });
});

test(
  'stop under load resolves while clients keep sending, and ' + 'every write acknowledged before it survives a restart',
  async () => {
    const dir = join(dataDir, 'under-load');
    const engine = await startEngine({ dataDir: dir });
    const client = clientFor(engine);
    await createTable(client, 'load', { hash: 'pk' });
    const acknowledged: string[] = [];
    let running = true;
    let stopped = false;
    let inFlight = 0;
    let warmedUp!: () => void;
    const enoughAcknowledged = new Promise<void>((resolve) => (warmedUp = resolve));
    // Busy keep-alive connections: the server must still close them once stopping.
    const worker = async (w: number, refusedAfterStop: () => void) => {
      for (let i = 0; running; i++) {
        const pk = `w${w}-${i}`;
        inFlight++;
        try {
          if (i % 3 === 0) {
            await client.send(
              new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'load', Item: { pk: S(pk) } } }] }),
            );
          } else {
            await client.send(new PutItemCommand({ TableName: 'load', Item: { pk: S(pk) } }));
          }
          acknowledged.push(pk);
          if (acknowledged.length > 20) warmedUp();
        } catch {
          if (stopped) refusedAfterStop();
          await new Promise((resolve) => setTimeout(resolve, 5)); // refused once stopping: fine
        } finally {
          inFlight--;
        }
      }
    };
    const refusals: Promise<void>[] = [];
    const workers = Array.from({ length: 4 }, (_, w) => {
      let refused!: () => void;
      refusals.push(new Promise<void>((resolve) => (refused = resolve)));
      return worker(w, refused);
    });
    await enoughAcknowledged;
    const inFlightAtStop = inFlight;
    await engine.stop();
    stopped = true;
    // stop() was called with requests in flight and resolved without the clients letting go: they
    // are still sending, and each one is now refused.
    expect(inFlightAtStop).toBeGreaterThan(0);
    await Promise.all(refusals);
    running = false;
    await Promise.all(workers);
    client.destroy();
    expect(acknowledged.length).toBeGreaterThan(10);

    await withEngine(await startEngine({ dataDir: dir }), async (again) => {
      const stored = new Set((await scanAll(again, 'load')).map((item) => item.pk?.S));
      expect(acknowledged.filter((pk) => !stored.has(pk))).toEqual([]);
    });
  },
);

test('a port in use fails the start and releases the data folder', async () => {
  const dir = join(dataDir, 'port-in-use');
  const first = await startEngine();
  try {
    await expect(startEngine({ port: first.port, dataDir: dir })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  } finally {
    await first.stop();
  }
  const second = await startEngine({ dataDir: dir });
  await second.stop();
});

test('change-feed sequence numbers keep increasing across a restart on the same data folder', async () => {
  const dir = join(dataDir, 'sequence');
  const sequences: string[] = [];
  for (let run = 0; run < 2; run++) {
    const engine = await startEngine({ dataDir: dir });
    engine.onChange((batch) => sequences.push(...batch.map((r) => r.sequenceNumber)));
    await withEngine(engine, async (client) => {
      if (run === 0) await createTable(client, 'seq', { hash: 'pk' });
      await client.send(new PutItemCommand({ TableName: 'seq', Item: { pk: S(`run-${run}`) } }));
    });
  }
  expect(sequences).toHaveLength(2);
  expect(sequences[1]! > sequences[0]!).toBe(true);
});

test('change-feed sequence numbers keep increasing across a restart even if the clock went back', async () => {
  const dir = join(dataDir, 'sequence-clock');
  const sequences: string[] = [];
  const now = Date.now.bind(Date);
  for (let run = 0; run < 2; run++) {
    // The second run has the clock an hour behind the first.
    const clock = run === 1 ? jest.spyOn(Date, 'now').mockImplementation(() => now() - 3_600_000) : undefined;
    try {
      const engine = await startEngine({ dataDir: dir });
      engine.onChange((batch) => sequences.push(...batch.map((r) => r.sequenceNumber)));
      await withEngine(engine, async (client) => {
        if (run === 0) await createTable(client, 'seq', { hash: 'pk' });
        await client.send(new PutItemCommand({ TableName: 'seq', Item: { pk: S(`run-${run}`) } }));
      });
    } finally {
      clock?.mockRestore();
    }
  }
  expect(sequences).toHaveLength(2);
  expect(sequences[1]! > sequences[0]!).toBe(true);
});

test('rejects a conflictRate outside 0..1', async () => {
  await expect(startEngine({ conflictRate: 1.5 })).rejects.toThrow(RangeError);
  await expect(startEngine({ conflictRate: -0.1 })).rejects.toThrow(RangeError);
});

describe('conflictRate', () => {
  test('1: every TransactWriteItems is cancelled with a TransactionConflict reason and applies nothing', async () => {
    await withEngine(await startEngine({ conflictRate: 1 }), async (client) => {
      await createTable(client, 'conflicts', { hash: 'pk' });
      const send = () =>
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: 'conflicts', Item: { pk: S('a') } } },
              { Put: { TableName: 'conflicts', Item: { pk: S('b') } } },
              { Put: { TableName: 'conflicts', Item: { pk: S('c') } } },
            ],
          }),
        );
      await expect(send()).rejects.toMatchObject({
        name: 'TransactionCanceledException',
        message: expect.stringMatching(
          /^Transaction cancelled, please refer cancellation reasons for specific reasons \[.*TransactionConflict.*\]$/,
        ),
      });
      const err = await send().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransactionCanceledException);
      const codes = (err as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code);
      expect(codes).toHaveLength(3);
      expect(codes?.filter((code) => code === 'TransactionConflict')).toHaveLength(1);
      expect(codes?.filter((code) => code === 'None')).toHaveLength(2);
      expect(await scanAll(client, 'conflicts')).toEqual([]);

      // Reads and single-item writes are not affected.
      await client.send(new PutItemCommand({ TableName: 'conflicts', Item: { pk: S('single') } }));
      const { Responses } = await client.send(
        new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: 'conflicts', Key: { pk: S('single') } } }] }),
      );
      expect(Responses).toEqual([{ Item: { pk: S('single') } }]);
    });
  });

  test('0.5: client code that retries TransactionConflict ends with exactly the intended writes', async () => {
    await withEngine(await startEngine({ conflictRate: 0.5 }), async (client) => {
      await createTable(client, 'retries', { hash: 'pk' });
      let conflicts = 0;
      const increment = async () => {
        for (;;) {
          try {
            return await client.send(
              new TransactWriteItemsCommand({
                TransactItems: [
                  {
                    Update: {
                      TableName: 'retries',
                      Key: { pk: S('counter') },
                      UpdateExpression: 'ADD n :one',
                      ExpressionAttributeValues: { ':one': N(1) },
                    },
                  },
                  {
                    Update: {
                      TableName: 'retries',
                      Key: { pk: S('shadow') },
                      UpdateExpression: 'ADD n :one',
                      ExpressionAttributeValues: { ':one': N(1) },
                    },
                  },
                ],
              }),
            );
          } catch (err) {
            const retryable =
              err instanceof TransactionCanceledException &&
              err.CancellationReasons?.some((reason) => reason.Code === 'TransactionConflict');
            if (!retryable) throw err;
            conflicts++;
          }
        }
      };
      await Promise.all(Array.from({ length: 40 }, increment));
      expect(await scanAll(client, 'retries')).toEqual([
        { n: N(40), pk: S('counter') },
        { n: N(40), pk: S('shadow') },
      ]);
      expect(conflicts).toBeGreaterThan(0);
    });
  });
});
