/**
 * Local engine throughput: 4-item TransactWriteItems versus single PutItem, sequential and with 16
 * requests in flight, through the real AWS SDK v3 client. One run of a few seconds against an
 * in-memory engine on 127.0.0.1; prints a table and stops by itself.
 *
 * Then a bulk write as a server-side import makes it (16 devices of 6 items: 96 new items of about
 * 300 bytes in one TransactWriteItems, on a table with two GSIs): items/s and this process's CPU
 * per item written (engine and SDK client, one thread; BENCH_ENGINE_BULK_MS long).
 *
 *   npm run bench:engine
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { startEngine } from '@device-manager/local-engine';
import { loadavg } from 'node:os';

const MEASURE_MS = 1000;
const WARMUP_MS = 200;
const IN_FLIGHT = 16;
const BULK_MS = Number(process.env.BENCH_ENGINE_BULK_MS ?? 3000);
const BULK_ACTIONS = 96;

interface Result {
  name: string;
  inFlight: number;
  perSecond: number;
}

/** Runs `op` from `inFlight` workers for WARMUP_MS (not counted) then MEASURE_MS; returns completed ops/s. */
async function measure(inFlight: number, op: (n: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  let counted = 0;
  let counting = false;
  let running = true;
  const worker = async () => {
    while (running) {
      await op(next++);
      if (counting) counted++;
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  await sleep(WARMUP_MS);
  counting = true;
  const start = performance.now();
  await sleep(MEASURE_MS);
  counting = false;
  const elapsed = performance.now() - start;
  running = false;
  await Promise.all(workers);
  return (counted * 1000) / elapsed;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const engine = await startEngine({ host: '127.0.0.1' });
  const client = new DynamoDBClient({
    endpoint: engine.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: 'bench',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      }),
    );

    let run = 0;
    // Distinct items per operation: this measures the engine's cost, not contention on one item.
    const transaction = (prefix: string) => (n: number) =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: 'bench',
                Item: { pk: { S: `${prefix}-${n}-a` }, v: { N: String(n) } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: 'bench', Item: { pk: { S: `${prefix}-${n}-b` }, v: { N: String(n) } } } },
            {
              Update: {
                TableName: 'bench',
                Key: { pk: { S: `${prefix}-${n}-c` } },
                UpdateExpression: 'ADD v :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
            {
              ConditionCheck: {
                TableName: 'bench',
                Key: { pk: { S: `${prefix}-${n}-d` } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    const put = (prefix: string) => (n: number) =>
      client.send(
        new PutItemCommand({ TableName: 'bench', Item: { pk: { S: `${prefix}-${n}` }, v: { N: String(n) } } }),
      );

    const results: Result[] = [];
    for (const [name, op] of [
      ['TransactWriteItems (4 items)', transaction],
      ['PutItem', put],
    ] as const) {
      for (const inFlight of [1, IN_FLIGHT]) {
        const perSecond = await measure(inFlight, op(`${name.slice(0, 3)}${inFlight}-${run++}`));
        results.push({ name, inFlight, perSecond });
      }
    }

    const rate = (name: string, inFlight: number) =>
      results.find((r) => r.name.startsWith(name) && r.inFlight === inFlight)?.perSecond ?? NaN;
    console.log(
      `local engine benchmark (${MEASURE_MS} ms per row after ${WARMUP_MS} ` +
        `ms warm-up, in-memory store, ${engine.endpoint})\n`,
    );
    console.log(
      table(
        ['operation', 'in flight', 'ops/s'],
        results.map((r) => [r.name, String(r.inFlight), r.perSecond.toFixed(0)]),
      ),
    );
    console.log('');
    console.log(
      table(
        ['ratio', 'sequential', `${IN_FLIGHT} in flight`],
        [
          [
            'PutItem/s ÷ transactions/s',
            (rate('PutItem', 1) / rate('Transact', 1)).toFixed(2),
            (rate('PutItem', IN_FLIGHT) / rate('Transact', IN_FLIGHT)).toFixed(2),
          ],
          [
            `${IN_FLIGHT} in flight ÷ sequential (transactions)`,
            '',
            (rate('Transact', IN_FLIGHT) / rate('Transact', 1)).toFixed(2),
          ],
          [
            `${IN_FLIGHT} in flight ÷ sequential (PutItem)`,
            '',
            (rate('PutItem', IN_FLIGHT) / rate('PutItem', 1)).toFixed(2),
          ],
        ],
      ),
    );
    await bulk(client);
  } finally {
    client.destroy();
    await engine.stop();
  }
}

/** Sequential 96-Put transactions of device-like items on a table with two GSIs: items/s and CPU µs per item. */
async function bulk(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: 'bulk',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: ['pk', 'sk', 'g1pk', 'g1sk', 'g2pk'].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'g1pk', KeyType: 'HASH' },
            { AttributeName: 'g1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'gsi2',
          KeySchema: [{ AttributeName: 'g2pk', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    }),
  );
  const item = (n: number, i: number) => ({
    pk: { S: `DEVICE#bulk-${n}-${Math.floor(i / 6)}` },
    sk: { S: `PART#${i % 6}` },
    g1pk: { S: `DMS#dms-${n % 10}` },
    g1sk: { S: `2026-12-06T21:00:00.000Z#bulk-${n}-${i}` },
    ...(i % 6 === 0 ? { g2pk: { S: `TAG#line-${n % 7}` } } : {}),
    status: { S: 'ACTIVE' },
    tags: { SS: ['bench', `line-${n % 7}`] },
    metadata: { M: { batch: { S: `b${n % 13}` }, n: { N: String(n) } } },
    version: { N: '1' },
    created: { S: '2026-12-06T21:00:00.000Z' },
  });
  let n = 0;
  const write = () =>
    client.send(
      new TransactWriteItemsCommand({
        TransactItems: Array.from({ length: BULK_ACTIONS }, (_, i) => ({
          Put: { TableName: 'bulk', Item: item(n, i), ConditionExpression: 'attribute_not_exists(pk)' },
        })),
      }),
    );
  for (const end = performance.now() + WARMUP_MS; performance.now() < end; n++) await write();
  const cpu = process.cpuUsage();
  const start = performance.now();
  let count = 0;
  for (const end = start + BULK_MS; performance.now() < end; n++, count++) await write();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const items = count * BULK_ACTIONS;
  console.log(
    `\nbulk: ${count} TransactWriteItems of ${BULK_ACTIONS} Puts (2 GSIs) in ${seconds.toFixed(1)} s: ` +
      `${(items / seconds).toFixed(0)} items/s, CPU ${((used.user + used.system) / items).toFixed(0)} µs per item ` +
      `(engine and SDK client); load average ${loadavg()
        .map((v) => v.toFixed(1))
        .join(', ')}`,
  );
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
