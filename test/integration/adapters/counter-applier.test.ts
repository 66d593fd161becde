/**
 * Counters from the stream on the embedded engine: a device's transaction writes only that device's
 * items, the applier's deltas match a recount of the devices, a redelivered record (in the same or in
 * a differently cut batch) counts once, and locally the counters catch up in the delivery after a
 * commit (counted, not timed).
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { deviceService } from '../../../functions/app/devices';
import type { DeviceChange } from '../../../functions/app/ports';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import type { TableChange } from '../../../functions/adapters/dynamodb/counter-applier';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { deviceTransaction } from '../../../functions/adapters/dynamodb/device-writes';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { parseCertificate } from '../../../functions/domain/certificate';
import { DEVICE_STATUSES, type Device } from '../../../functions/domain/device';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { freshTable, startCounters, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

const STATS_SHARDS = 3;

function setup(table: TestTable) {
  const clock = testClock();
  const repository = deviceRepository({
    client: table.documentClient,
    tableName: table.tableName,
    listShards: 2,
    statsShards: STATS_SHARDS,
    bookmarks: bookmarkCodec('k'),
    indexedMetadataKeys: ['fw'],
  });
  const policies = policyRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec('k'),
  });
  const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  return { clock, repository, service };
}

async function recount(table: TestTable) {
  const out = await table.documentClient.send(
    new ScanCommand({
      TableName: table.tableName,
      FilterExpression: 'kind = :k',
      ExpressionAttributeValues: { ':k': 'device' },
    }),
  );
  const devices = (out.Items ?? []).map((i) => JSON.parse(i.doc as string) as Device);
  const status_distribution = Object.fromEntries(
    DEVICE_STATUSES.map((s) => [s, devices.filter((d) => d.status === s).length]),
  );
  return { total: devices.length, status_distribution };
}

/** Every stored stream record of the table so far, as the applier takes them. */
async function streamOf(table: TestTable): Promise<TableChange[]> {
  const records = await engine.stream.read(table.tableName, undefined, 10_000);
  return records.map((r) => ({
    sequenceNumber: r.sequenceNumber,
    committedAt: r.approximateCreationDateTime,
    ...(r.oldImage ? { oldImage: r.oldImage } : {}),
    ...(r.newImage ? { newImage: r.newImage } : {}),
  }));
}

describe('a device transaction', () => {
  it('writes only the items of its own device and its outbox records: no counter, no policy item', async () => {
    const table = await freshTable(engine);
    const { service, repository } = setup(table);
    const pem = (await certificate({ notAfter: new Date(Date.parse('2026-03-15T10:00:00Z') + 40 * 86_400_000) })).pem;
    await service.register({ id: 'own', dms_id: 'dms-o', metadata: { fw: '1.0' }, tags: ['a', 'b'] });
    const before = await repository.get('own');
    const bound = await service.bind('own', 'identity', { type: 'x509', certificate: parseCertificate(pem) });
    const change: DeviceChange = {
      before,
      after: bound,
      events: [],
      outbox: [],
      policy: { dms: 'dms-o', version: 0 },
    };
    const ctx = {
      TableName: table.tableName,
      listShards: 2,
      statsShards: STATS_SHARDS,
      dueShards: 4,
      outboxTtlSeconds: 60,
      indexedKeys: new Set(['fw', '@forecast']),
    };
    const keys = deviceTransaction(ctx, change).TransactItems.map((action) => {
      const inner = Object.values(action)[0] as { Key?: { pk: string }; Item?: { pk: string } };
      return (inner.Key ?? inner.Item)!.pk;
    });
    expect(keys.length).toBeGreaterThan(3);
    expect(keys.every((pk) => pk === 'DEVICE#own' || pk.startsWith('OUTBOX#'))).toBe(true);
  });
});

describe('the counter applier', () => {
  it('keeps the statistics equal to a recount, and catches up in the delivery after each commit', async () => {
    const table = await freshTable(engine);
    const counters = startCounters(table, STATS_SHARDS);
    const { service, repository } = setup(table);
    try {
      for (let i = 0; i < 12; i++) {
        const delivered = counters.deliveries.filter((n) => n > 0).length;
        await service.register({ id: `d${i}`, dms_id: i % 2 ? 'dms-a' : 'dms-b', metadata: { fw: `v${i % 3}` } });
        if (i % 4 === 3) await service.decommission(`d${i - 1}`);
        await counters.settle();
        // Each commit's device records reach the applier in the delivery that follows it: one per commit, no timer.
        expect(counters.deliveries.filter((n) => n > 0).length - delivered).toBe(i % 4 === 3 ? 2 : 1);
        expect(await repository.stats([])).toMatchObject(await recount(table));
      }
      const stats = await repository.stats([]);
      // The counters include every change committed before consistent_as_of (whole seconds, as the stream reports).
      expect(Date.parse(stats.consistent_as_of)).toBeGreaterThan(Date.now() - 60_000);
      expect(Date.parse(stats.consistent_as_of)).toBeLessThanOrEqual(Date.now());
    } finally {
      await counters.stop();
    }
  });

  it('counts a redelivered record once, in the same batch or cut differently', async () => {
    const table = await freshTable(engine);
    const counters = startCounters(table, STATS_SHARDS);
    const { service, repository } = setup(table);
    for (let i = 0; i < 6; i++) await service.register({ id: `r${i}`, dms_id: 'dms-r' });
    await service.decommission('r0');
    await counters.settle();
    await counters.stop();
    const expected = await recount(table);
    expect(await repository.stats([])).toMatchObject(expected);

    const records = await streamOf(table);
    const devices = records.filter((r) => (r.newImage ?? r.oldImage)?.kind?.S === 'device');
    expect(devices).toHaveLength(7);
    // The whole batch again: every device record is a duplicate.
    const again = await counters.applier.apply(records);
    expect(again).toMatchObject({ applied: 0, duplicates: 7 });
    // A prefix, then the batch from the middle (a retry after a partial failure).
    expect(await counters.applier.apply(records.slice(0, 5))).toMatchObject({ applied: 0 });
    expect(await counters.applier.apply(records.slice(3))).toMatchObject({ applied: 0 });
    expect(await repository.stats([])).toMatchObject(expected);
  });

  it('applies a batch cut at a failure exactly once: the applied part is marked, the rest applies later', async () => {
    const table = await freshTable(engine);
    const { service, repository } = setup(table);
    for (let i = 0; i < 5; i++) await service.register({ id: `p${i}`, dms_id: 'dms-p' });
    const records = await streamOf(table);
    const applier = startCounters(table, STATS_SHARDS);
    await applier.stop();
    const first = await applier.applier.apply(records.slice(0, 4));
    const second = await applier.applier.apply(records);
    expect(first.applied + second.applied).toBe(5);
    expect(second.duplicates).toBe(first.applied);
    expect(await repository.stats([])).toMatchObject({ total: 5 });
  });
});

describe('event history', () => {
  it('expires with TTL EVENT_RETENTION_DAYS after each event (default 400 days)', async () => {
    const table = await freshTable(engine);
    const clock = testClock();
    const options = { client: table.documentClient, tableName: table.tableName, listShards: 2, statsShards: 1 };
    const bookmarks = bookmarkCodec('k');
    const policies = policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
    for (const [id, days] of [
      ['short', 10],
      ['default', undefined],
    ] as const) {
      const repository = deviceRepository({ ...options, bookmarks, eventRetentionDays: days });
      const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
      const device = await service.register({ id, dms_id: 'dms-e' });
      const out = await table.documentClient.send(
        new ScanCommand({
          TableName: table.tableName,
          FilterExpression: 'kind = :k AND pk = :pk',
          ExpressionAttributeValues: { ':k': 'event', ':pk': `DEVICE#${id}` },
        }),
      );
      expect(out.Items?.map((i) => i.ttl)).toEqual([
        Math.floor(Date.parse(device.creation_timestamp) / 1000) + (days ?? 400) * 86_400,
      ]);
    }
  });
});
