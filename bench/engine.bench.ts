/**
 * Local engine throughput: 4-item TransactWriteItems versus single PutItem, sequential and with 16
 * requests in flight, through the real AWS SDK v3 client. One run of a few seconds against an
 * in-memory engine on 127.0.0.1; prints a table and stops by itself.
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

const MEASURE_MS = 1000;
const WARMUP_MS = 200;
const IN_FLIGHT = 16;

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
  } finally {
    client.destroy();
    await engine.stop();
  }
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
