/**
 * Ranked metadata values on the embedded engine: the distribution of an indexed key reads about what
 * `limit` needs and agrees with a read of every value counter, through changes, for a key indexed
 * before ranked values existed (built by the back-fill), and when refreshes race each other.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { deviceService } from '../../../functions/app/devices';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { counterReader, STATUS_ATTR } from '../../../functions/adapters/dynamodb/counters';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { metadataRankKey, metadataStatsKey, metadataTotalKey } from '../../../functions/adapters/dynamodb/keys';
import { metadataRanks } from '../../../functions/adapters/dynamodb/metadata-ranks';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { topValues } from '../../../functions/domain/insights';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import type { Engine } from '@device-manager/local-engine';
import { freshTable, settledCounters, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

const SHARDS = 2;

function setup(table: TestTable) {
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 2,
      statsShards: SHARDS,
      bookmarks: bookmarkCodec('k'),
      indexedMetadataKeys: ['fw'],
    }),
    table,
    SHARDS,
  );
  const policies = policyRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec('k'),
  });
  const service = deviceService({ devices: repository, policies, clock: testClock(), newId: randomUUID });
  /** Every value counter read and ranked here: what the distribution must answer. */
  const expected = async (limit: number) =>
    topValues(
      await counterReader(table.documentClient, table.tableName, SHARDS, () => undefined).metadataDistribution('fw'),
      limit,
    );
  return { repository, service, expected };
}

/** 23 devices over 10 values: value `v<k>` held by (k % 4) + 1 devices, ties included. */
async function seed(service: ReturnType<typeof setup>['service']) {
  let n = 0;
  for (let k = 0; k < 10; k++)
    for (let i = 0; i <= k % 4; i++)
      await service.register({ id: `d-${n++}`, dms_id: `dms-${k % 3}`, metadata: { fw: `v${k}` } });
  return n;
}

describe('ranked metadata values', () => {
  let table: TestTable;
  let ctx: ReturnType<typeof setup>;
  beforeAll(async () => {
    table = await freshTable(engine);
    ctx = setup(table);
    expect((await ctx.repository.backfillIndexes(Date.now() + 60_000, 50)).complete).toBe(true);
    await seed(ctx.service);
  });

  it('answers the limit most common values and other, reading about twice the limit', async () => {
    for (const limit of [1, 3, 5, 20]) {
      const before = ctx.repository.itemsRead;
      const top = await ctx.repository.metadataValues('fw', limit);
      const read = ctx.repository.itemsRead - before;
      expect(top).toEqual(await ctx.expected(limit));
      // Index entries and ranked items of the values shown, the key's total.
      expect(read).toBeLessThanOrEqual(2 * Math.min(limit, 10) + 1);
    }
    // Ties (two values of 4 devices, two of 3) are broken by value text.
    expect((await ctx.repository.metadataValues('fw', 3)).values.map((v) => v.value)).toEqual(['"v3"', '"v7"', '"v2"']);
  });

  it('follows changes of value and status, and drops values no device holds', async () => {
    await ctx.service.patch('d-0', MERGE_PATCH, { metadata: { fw: 'v3' } });
    await ctx.service.decommission('d-1');
    await ctx.service.patch('d-2', MERGE_PATCH, { metadata: { fw: null } });
    const top = await ctx.repository.metadataValues('fw', 4);
    expect(top).toEqual(await ctx.expected(4));
    expect(top.values[0]).toMatchObject({ value: '"v3"', stats: { total: 5 } });
    const all = await ctx.repository.metadataValues('fw', 100);
    expect(all.values.map((v) => v.value)).not.toContain('"v0"');
    expect(all).toEqual(await ctx.expected(100));
  });
});

describe('a key indexed before ranked values existed', () => {
  it('is read whole until the back-fill builds its ranked values, resumably', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table);
    expect((await ctx.repository.backfillIndexes(Date.now() + 60_000, 50)).complete).toBe(true);
    await seed(ctx.service);
    await ctx.repository.metadataValues('fw', 1);
    // What a table of the earlier release holds: value counters, no ranked items, no rank state.
    const { Items = [] } = await table.documentClient.send(new ScanCommand({ TableName: table.tableName }));
    const old = Items.filter((i) => String(i.pk).startsWith('MRANK#') || String(i.sk) === 'KEY#@ranks:fw');
    expect(old.length).toBeGreaterThan(10);
    for (const { pk, sk } of old)
      await table.documentClient.send(new DeleteCommand({ TableName: table.tableName, Key: { pk, sk } }));

    const reader = setup(table);
    const before = reader.repository.itemsRead;
    expect(await reader.repository.metadataValues('fw', 2)).toEqual(await reader.expected(2));
    // Every value counter: 10 values over 2 shards.
    expect(reader.repository.itemsRead - before).toBeGreaterThanOrEqual(10);

    const partial = await reader.repository.backfillIndexes(Date.now() - 1, 4);
    expect(partial.complete).toBe(false);
    // A change between two steps of the walk is refreshed by the applier as usual.
    await reader.service.patch('d-5', MERGE_PATCH, { metadata: { fw: 'v9' } });
    expect((await reader.repository.backfillIndexes(Date.now() + 60_000, 4)).complete).toBe(true);

    const built = setup(table);
    const after = built.repository.itemsRead;
    expect(await built.repository.metadataValues('fw', 2)).toEqual(await built.expected(2));
    expect(built.repository.itemsRead - after).toBeLessThanOrEqual(2 * 2 + 1);
    expect(await built.repository.metadataValues('fw', 100)).toEqual(await built.expected(100));
  });
});

describe('racing refreshes', () => {
  it('leave every ranked item at the sum of its shards and the key total at the sum of the values', async () => {
    const table = await freshTable(engine);
    const { documentClient: client, tableName } = table;
    const racers = [1, 2, 3].map(() => metadataRanks(client, tableName, SHARDS, () => undefined));
    const texts = ['"a"', '"b"', '"c"'];
    const add = (text: string, shard: number, status: string, n: number) =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: metadataStatsKey('fw', shard, text),
          UpdateExpression: 'ADD #c :n SET v = :v',
          ExpressionAttributeNames: { '#c': STATUS_ATTR(status) },
          ExpressionAttributeValues: { ':n': n, ':v': text },
        }),
      );
    // Each writer adds to a shard, then refreshes (as the applier does); all of them at once.
    await Promise.all(
      Array.from({ length: 18 }, async (_, i) => {
        const text = texts[i % 3]!;
        await add(text, i % SHARDS, i % 4 ? 'ACTIVE' : 'NO_IDENTITY', i % 5 === 4 ? -1 : 2);
        await racers[i % racers.length]!.refresh([{ key: 'fw', text }]);
      }),
    );
    let sum = 0;
    for (const text of texts) {
      const shards = await Promise.all(
        Array.from({ length: SHARDS }, (_, s) =>
          client.send(new GetCommand({ TableName: tableName, Key: metadataStatsKey('fw', s, text) })),
        ),
      );
      const count = (status: string) => shards.reduce((n, out) => n + Number(out.Item?.[STATUS_ATTR(status)] ?? 0), 0);
      const ranked = (await client.send(new GetCommand({ TableName: tableName, Key: metadataRankKey('fw', text) })))
        .Item!;
      expect(ranked[STATUS_ATTR('ACTIVE')]).toBe(count('ACTIVE'));
      expect(ranked[STATUS_ATTR('NO_IDENTITY')]).toBe(count('NO_IDENTITY'));
      sum += count('ACTIVE') + count('NO_IDENTITY');
    }
    const total = await client.send(new GetCommand({ TableName: tableName, Key: metadataTotalKey('fw') }));
    expect(total.Item?.total).toBe(sum);
    expect(sum).toBeGreaterThan(0);
  });
});
