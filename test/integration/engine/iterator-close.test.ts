/**
 * Every store iterator behind a Query or Scan is closed when its stream ends or a Limit cuts it short
 * (packages/local-engine/src/iterator-close.ts): an open iterator pins LevelDB's files and memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { storeIteratorCounts } from '@device-manager/local-engine';
import { createTable, startHarness, type Harness } from './support';

async function queriesAndScans({ client }: Harness): Promise<number> {
  await createTable(client, 'items', { hash: 'pk', range: 'sk' });
  for (let i = 0; i < 40; i++) {
    const sk = { S: String(i).padStart(3, '0') };
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'p' }, sk } }));
  }
  const query = (Limit?: number) =>
    client.send(
      new QueryCommand({
        TableName: 'items',
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'p' } },
        ...(Limit ? { Limit } : {}),
      }),
    );
  let requests = 0;
  for (let i = 0; i < 10; i++, requests++) expect((await query(3)).Items).toHaveLength(3);
  for (let i = 0; i < 5; i++, requests++) expect((await query()).Items).toHaveLength(40);
  expect((await client.send(new ScanCommand({ TableName: 'items', Limit: 5 }))).Items).toHaveLength(5);
  expect((await client.send(new ScanCommand({ TableName: 'items' }))).Items).toHaveLength(40);
  return requests + 2;
}

/** The closes a stream starts as it ends complete on later turns: wait for them (bounded by turns, not time). */
async function settled(): Promise<void> {
  for (let turn = 0; turn < 1000 && storeIteratorCounts.opened !== storeIteratorCounts.closed; turn++)
    await new Promise((resolve) => setImmediate(resolve));
}

describe.each([
  ['in memory', false],
  ['on a data folder', true],
])('store iterators %s', (_, onDisk) => {
  it('are all closed, whether a Limit cuts the stream short or it runs to the end', async () => {
    const dataDir = onDisk ? await mkdtemp(join(tmpdir(), 'iterator-close-')) : undefined;
    const harness = await startHarness(dataDir ? { dataDir } : undefined);
    try {
      await settled();
      const opened = storeIteratorCounts.opened;
      const requests = await queriesAndScans(harness);
      await settled();
      expect(storeIteratorCounts.opened - opened).toBeGreaterThanOrEqual(requests);
      expect(storeIteratorCounts.closed).toBe(storeIteratorCounts.opened);
    } finally {
      await harness.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });
});
