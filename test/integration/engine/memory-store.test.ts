/**
 * The in-memory store keeps strings, not Buffers (packages/local-engine/src/dynalite.ts): the same
 * order as the data-folder store (LevelDB, bytes) for every key type, sort keys beyond the Basic
 * Multilingual Plane included, where string order and UTF-8 byte order differ.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createTable, startHarness, type Harness } from './support';

// U+E000 sorts after U+1F600 in UTF-16 code units but before it in UTF-8 bytes (DynamoDB's order).
const STRINGS = ['b', 'a', '\u{E000}', '\u{1F600}', 'é', 'A', 'a\u0000', ''];
const NUMBERS = ['-12.5', '0', '3', '-3', '1e10', '0.001', '-1e-5'];
const BINARIES = [Buffer.from([0xff]), Buffer.from([0x00, 0x01]), Buffer.from([0x7f]), Buffer.from([0x80, 0x00])];

async function orders(harness: Harness) {
  const { client } = harness;
  const result: Record<string, unknown[]> = {};
  for (const type of ['S', 'N', 'B'] as const) {
    const table = `order-${type}`;
    await createTable(client, table, { hash: 'pk', range: 'sk', types: { sk: type } });
    const values: AttributeValue[] =
      type === 'S'
        ? STRINGS.filter(Boolean).map((S) => ({ S }))
        : type === 'N'
          ? NUMBERS.map((N) => ({ N }))
          : BINARIES.map((B) => ({ B }));
    for (const sk of values) {
      await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'p' }, sk, hashed: sk } }));
    }
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'p' } },
      }),
    );
    result[type] = (page.Items ?? []).map((item) => item.sk);
    // Hash keys of every type too: a scan walks them in the store's key order.
    const hashTable = `hash-${type}`;
    await createTable(client, hashTable, { hash: 'pk', types: { pk: type } });
    for (const pk of values) await client.send(new PutItemCommand({ TableName: hashTable, Item: { pk } }));
    const scan = await client.send(new ScanCommand({ TableName: hashTable }));
    result[`scan-${type}`] = (scan.Items ?? []).map((item) => item.pk);
  }
  return result;
}

describe('the in-memory store', () => {
  it('is a string store', () => {
    const { MemoryLevel } = createRequire(require.resolve('dynalite/db'))('memory-level') as {
      MemoryLevel: new (options: object) => { supports: { encodings: Record<string, boolean> } };
    };
    const { encodings } = new MemoryLevel({ valueEncoding: 'json' }).supports;
    // The store's own encoding only (plus the JSON it transcodes values from); memory-level's default is buffer.
    expect(encodings).toEqual({ utf8: true, json: true });
  });

  it('orders keys as the data-folder store does (UTF-8 bytes for strings)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'memory-store-'));
    const memory = await startHarness();
    const disk = await startHarness({ dataDir });
    try {
      const inMemory = await orders(memory);
      expect(inMemory).toEqual(await orders(disk));
      // DynamoDB's documented order: strings by UTF-8 bytes, numbers by value, binaries by bytes.
      expect(inMemory.S).toEqual(['A', 'a', 'a\u0000', 'b', 'é', '\u{E000}', '\u{1F600}'].map((S) => ({ S })));
      expect(inMemory.N).toEqual(['-12.5', '-3', '-0.00001', '0', '0.001', '3', '10000000000'].map((N) => ({ N })));
      expect((inMemory.B as { B: Uint8Array }[]).map(({ B }) => [...B])).toEqual([[0, 1], [0x7f], [0x80, 0], [0xff]]);
    } finally {
      await memory.close();
      await disk.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
