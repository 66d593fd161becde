/**
 * Fleet-scale data model on the embedded engine: indexed metadata keys (entry points, counters,
 * distribution, back-fill), the expiry forecast, transaction limits, the statistics read budget and
 * the policy race.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { deviceService } from '../../../functions/app/devices';
import { insightsService } from '../../../functions/app/insights';
import { policyService } from '../../../functions/app/policies';
import type { PolicyRepository } from '../../../functions/app/ports';
import { sweep } from '../../../functions/app/sweep';
import type { RetryOptions } from '../../../functions/app/retry';
import { DEFAULT_BACKOFF } from '../../../functions/domain/backoff';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { sweepIndex } from '../../../functions/adapters/dynamodb/sweep-index';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { parseCertificate } from '../../../functions/domain/certificate';
import { DEVICE_STATUSES, type Device } from '../../../functions/domain/device';
import {
  IndexNotReadyError,
  InvalidBookmarkError,
  QueryTooBroadError,
  ValidationError,
} from '../../../functions/domain/errors';
import { compileCriterion, matchesAll, splitFilterParam, type Filter } from '../../../functions/domain/filters';
import { forecastEntries } from '../../../functions/domain/insights';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { freshTable, settledCounters, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

const DAY = 86_400_000;
const f = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter[0]').filter!;
const page = (filters: Filter[], pageSize = 25, bookmark?: string) => ({
  filters,
  sortBy: 'creation_timestamp' as const,
  sortMode: 'asc' as const,
  pageSize,
  bookmark,
});

function setup(
  table: TestTable,
  options: { keys?: string[]; statsReadBudget?: number; policies?: PolicyRepository; retry?: RetryOptions } = {},
) {
  const clock = testClock();
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 3,
      statsShards: 2,
      bookmarks: bookmarkCodec('k'),
      indexedMetadataKeys: options.keys ?? ['fw', 'site.building'],
      statsReadBudget: options.statsReadBudget,
    }),
    table,
    2,
  );
  const policies =
    options.policies ??
    policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks: bookmarkCodec('k') });
  const service = deviceService({ devices: repository, policies, clock, newId: randomUUID, retry: options.retry });
  const insights = insightsService({ devices: repository, clock });
  return { clock, repository, policies, service, insights };
}

function distributionOf(devices: Device[]) {
  const status_distribution = Object.fromEntries(
    DEVICE_STATUSES.map((s) => [s, devices.filter((d) => d.status === s).length]),
  );
  return { total: devices.length, status_distribution };
}

async function allDevices(table: TestTable): Promise<Device[]> {
  const out = await table.documentClient.send(
    new ScanCommand({
      TableName: table.tableName,
      FilterExpression: 'kind = :k',
      ExpressionAttributeValues: { ':k': 'device' },
    }),
  );
  return (out.Items ?? []).map((i) => JSON.parse(i.doc as string) as Device);
}

describe('indexed metadata keys', () => {
  let table: TestTable;
  let ctx: ReturnType<typeof setup>;
  const FW = ['1.3.0', '1.4.2', '2.0.0'];
  beforeAll(async () => {
    table = await freshTable(engine);
    ctx = setup(table);
    expect(await ctx.repository.backfillIndexes(Date.now() + 60_000, 50)).toEqual({ indexed: 0, complete: true });
    for (let i = 0; i < 60; i++) {
      await ctx.service.register({
        id: `d-${String(i).padStart(2, '0')}`,
        dms_id: i % 2 ? 'dms-a' : 'dms-b',
        tags: [`t${i % 3}`],
        metadata: { fw: FW[i % 3]!, site: { building: i < 6 ? 'A' : 'B' }, n: i },
      });
    }
    await ctx.service.register({ id: 'numeric', dms_id: 'dms-a', metadata: { fw: 3 } });
    await ctx.service.decommission('d-03');
  });

  it('lists an indexed value from its own partitions, reading about twice what it returns', async () => {
    const before = ctx.repository.itemsRead;
    const result = await ctx.service.list(page([f('metadata.site.building[eq]A')]));
    expect(result.list.map((d) => d.id)).toEqual(['d-00', 'd-01', 'd-02', 'd-03', 'd-04', 'd-05']);
    expect(result.next).toBe('');
    expect(ctx.repository.itemsRead - before).toBeLessThanOrEqual(2 * 6);
  });

  it('serves [in] and JSON texts (a number and the string of it are different values)', async () => {
    const listed = await ctx.service.list(page([f('metadata.fw[in]1.3.0,3')], 100));
    expect(listed.list.map((d) => d.id).sort()).toEqual(
      [...Array.from({ length: 20 }, (_, i) => `d-${String(i * 3).padStart(2, '0')}`), 'numeric'].sort(),
    );
    const all = await allDevices(table);
    expect(await ctx.service.stats([f('metadata.fw[eq]1.4.2')])).toMatchObject(
      distributionOf(all.filter((d) => matchesAll(d, [f('metadata.fw[eq]1.4.2')]))),
    );
  });

  it('answers statistics by an indexed value and by DMS from counters', async () => {
    const all = await allDevices(table);
    for (const filter of ['metadata.fw[eq]1.3.0', 'metadata.site.building[in]A,B', 'dms_owner[eq]dms-a']) {
      const before = ctx.repository.itemsRead;
      expect(await ctx.service.stats([f(filter)])).toMatchObject(
        distributionOf(all.filter((d) => matchesAll(d, [f(filter)]))),
      );
      // Counter items only: values × stats shards, and the applier's state (consistent_as_of).
      expect(ctx.repository.itemsRead - before).toBeLessThanOrEqual(2 * 2 + 1);
    }
    // Group statistics: an indexed value with a status criterion is its counters, masked.
    const before = ctx.repository.itemsRead;
    const masked = await ctx.service.statsOfMatching([f('metadata.fw[eq]1.3.0'), f('status[ne]DECOMMISSIONED')]);
    expect(masked).toMatchObject(
      distributionOf(all.filter((d) => matchesAll(d, [f('metadata.fw[eq]1.3.0'), f('status[ne]DECOMMISSIONED')]))),
    );
    expect(ctx.repository.itemsRead - before).toBeLessThanOrEqual(2 + 1);
  });

  it('gives the value distribution, most common first, with other', async () => {
    const result = await ctx.insights.metadataDistribution('fw', 2);
    expect(result.key).toBe('fw');
    expect(result.values.map((v) => [v.value, v.total])).toEqual([
      ['"1.3.0"', 20],
      ['"1.4.2"', 20],
    ]);
    expect(result.values[0]!.status_distribution.DECOMMISSIONED).toBe(1);
    expect(result.other).toBe(21);
    await expect(ctx.insights.metadataDistribution('n')).rejects.toThrow(ValidationError);
  });

  it('moves counters and entries with a PATCH, and with a status change', async () => {
    await ctx.service.patch('d-01', MERGE_PATCH, { metadata: { fw: '2.0.0', site: { building: 'B' } } });
    const all = await allDevices(table);
    for (const filter of ['metadata.fw[eq]1.4.2', 'metadata.fw[eq]2.0.0', 'metadata.site.building[eq]A']) {
      expect(await ctx.service.stats([f(filter)])).toMatchObject(
        distributionOf(all.filter((d) => matchesAll(d, [f(filter)]))),
      );
    }
    expect((await ctx.service.list(page([f('metadata.site.building[eq]A')]))).list.map((d) => d.id)).toEqual([
      'd-00',
      'd-02',
      'd-03',
      'd-04',
      'd-05',
    ]);
  });

  it('rejects a forged list position with 400, and keeps a valid bookmark working', async () => {
    const first = await ctx.service.list(page([], 5));
    const second = await ctx.service.list(page([], 5, first.next));
    expect(second.list[0]!.id).toBe('d-05');
    const codec = bookmarkCodec('k');
    const forged = codec.encode({ e: { kind: 'ALL' }, f: [], s: 'creation_timestamp', m: 'asc' }, '{"pk":"x"}');
    await expect(ctx.service.list(page([], 5, forged))).rejects.toThrow(InvalidBookmarkError);
  });
});

describe('statistics read budget', () => {
  it('answers 422 QUERY_TOO_BROAD naming the filter to index once a non-indexed walk passes the budget', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table, { keys: [], statsReadBudget: 100 });
    for (let i = 0; i < 120; i++)
      await ctx.service.register({
        id: `b-${i}`,
        dms_id: 'dms-a',
        tags: i < 10 ? ['few'] : [],
        metadata: { x: i % 2 },
      });
    const error = await ctx.service.stats([f('metadata.x[eq]1')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryTooBroadError);
    expect((error as QueryTooBroadError).filter).toBe('metadata.x');
    // An indexed entry point within the budget still answers exactly.
    expect(await ctx.service.stats([f('tags[ct]few'), f('metadata.x[eq]1')])).toMatchObject({ total: 5 });
  });
});

describe('back-fill of a newly indexed key', () => {
  it('indexes existing devices in the background, resumably, racing with changes', async () => {
    const table = await freshTable(engine);
    const old = setup(table, { keys: [] });
    for (let i = 0; i < 30; i++)
      await old.service.register({
        id: `o-${String(i).padStart(2, '0')}`,
        dms_id: 'dms-a',
        metadata: { fw: i % 3 ? '1.0' : '2.0' },
      });
    const ctx = setup(table, { keys: ['fw'] });
    // Not ready: the metadata filter is not an index yet, the distribution is refused, the list still answers.
    await expect(ctx.insights.metadataDistribution('fw')).rejects.toThrow(IndexNotReadyError);
    expect((await ctx.service.list(page([f('metadata.fw[eq]2.0')], 100))).list).toHaveLength(10);
    // A first step stopped by its deadline, a change in between (the device indexes itself), then the rest.
    const partial = await ctx.repository.backfillIndexes(Date.now() - 1, 5);
    expect(partial.complete).toBe(false);
    await ctx.service.patch('o-29', MERGE_PATCH, { metadata: { fw: '2.0' } });
    const rest = await ctx.repository.backfillIndexes(Date.now() + 60_000, 4);
    expect(rest.complete).toBe(true);
    const fresh = setup(table, { keys: ['fw'] });
    const all = await allDevices(table);
    const result = await fresh.insights.metadataDistribution('fw');
    expect(result.values.map((v) => [v.value, v.total])).toEqual([
      ['"1.0"', all.filter((d) => d.metadata.fw === '1.0').length],
      ['"2.0"', all.filter((d) => d.metadata.fw === '2.0').length],
    ]);
    expect(result.values[1]!.total).toBe(11);
    expect((await fresh.service.list(page([f('metadata.fw[eq]2.0')], 100))).list).toHaveLength(11);
  });
});

describe('expiry forecast', () => {
  it('counts active identities and slots per bucket, following bind, renew, revoke and decommission', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table);
    const now = Date.parse('2026-03-15T10:00:00Z');
    const bind = async (id: string, days: number) =>
      ctx.service.bind(id, 'identity', {
        type: 'x509',
        certificate: parseCertificate((await certificate({ notAfter: new Date(now + days * DAY) })).pem),
      });
    for (let i = 0; i < 8; i++) await ctx.service.register({ id: `e-${i}`, dms_id: i < 4 ? 'dms-a' : 'dms-b' });
    for (let i = 0; i < 8; i++) await bind(`e-${i}`, 3 + i * 7);
    await ctx.service.bind('e-0', 'tls', {
      type: 'TOKEN',
      secret: 's',
      expiration_date: new Date(now + 10 * DAY).toISOString(),
    });
    await bind('e-1', 100); // renew: the superseded certificate leaves the forecast
    await ctx.service.revoke('e-2', 'identity', 'KeyCompromise');
    await ctx.service.decommission('e-3');
    ctx.clock.set('2026-03-20T00:00:00Z'); // e-0's identity (day 3) is now already expired

    const forecast = await ctx.insights.expirations({ bucket: 'week', horizonDays: 90 });
    const all = await allDevices(table);
    const entries = all.flatMap(forecastEntries);
    expect(forecast.already_expired).toBe(entries.filter((e) => e.day < '2026-03-20').length);
    expect(forecast.already_expired).toBe(1);
    const inBuckets = forecast.buckets.reduce((n, b) => n + b.identity + b.slots, 0);
    expect(inBuckets).toBe(entries.filter((e) => e.day >= '2026-03-20' && e.day < '2026-06-18').length);
    expect(forecast.buckets[0]).toEqual({
      start: '2026-03-20T00:00:00Z',
      end: '2026-03-23T00:00:00Z',
      identity: 0,
      slots: 0,
    });
    expect(forecast.buckets[1]).toMatchObject({ start: '2026-03-23T00:00:00Z', end: '2026-03-30T00:00:00Z', slots: 1 });
    expect(forecast.buckets.at(-1)!.end).toBe('2026-06-18T00:00:00Z');
    const dmsB = await ctx.insights.expirations({ bucket: 'month', horizonDays: 60, dms: 'dms-b' });
    expect(dmsB.buckets.map((b) => b.start)).toEqual([
      '2026-03-20T00:00:00Z',
      '2026-04-01T00:00:00Z',
      '2026-05-01T00:00:00Z',
    ]);
    expect(dmsB.buckets.reduce((n, b) => n + b.identity, 0)).toBe(4);
  });
});

describe('transaction limits', () => {
  it('replaces all 50 tags and every indexed value in one PATCH, lists by the new tags, drops the old', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table, { keys: ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'] });
    await ctx.repository.backfillIndexes(Date.now() + 60_000, 50);
    const meta = (v: string) => Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, `${v}${i}`]));
    await ctx.service.register({
      id: 'wide',
      dms_id: 'dms-a',
      tags: Array.from({ length: 50 }, (_, i) => `old-${i}`),
      metadata: meta('a'),
    });
    const after = await ctx.service.patch('wide', MERGE_PATCH, {
      tags: Array.from({ length: 50 }, (_, i) => `new-${i}`),
      metadata: meta('b'),
    });
    expect(after.tags).toHaveLength(50);
    expect((await ctx.service.list(page([f('tags[ct]new-49')]))).list.map((d) => d.id)).toEqual(['wide']);
    expect((await ctx.service.list(page([f('tags[ct]old-49')]))).list).toEqual([]);
    expect(await ctx.service.stats([f('metadata.k9[eq]b9')])).toMatchObject({ total: 1 });
    expect(await ctx.service.stats([f('metadata.k9[eq]a9')])).toMatchObject({ total: 0 });
    // The largest policy-dependent change: a bind moves every entry's sort key and the status (88 actions).
    const bound = await ctx.service.bind('wide', 'identity', {
      type: 'x509',
      certificate: parseCertificate(
        (await certificate({ notAfter: new Date(Date.parse('2026-03-15T10:00:00Z') + 300 * DAY) })).pem,
      ),
    });
    expect(bound.status).toBe('ACTIVE');
    expect(await ctx.service.stats([f('metadata.k9[eq]b9')])).toMatchObject({
      total: 1,
      status_distribution: expect.objectContaining({ ACTIVE: 1, NO_IDENTITY: 0 }),
    });
    expect(
      (await ctx.service.list({ ...page([f('tags[ct]new-0')]), sortBy: 'identity.expiration_date' })).list.map(
        (d) => d.id,
      ),
    ).toEqual(['wide']);
    // Fewer tags: the positions past the end are deleted.
    await ctx.service.patch('wide', MERGE_PATCH, { tags: ['only'] });
    const entries = (await table.documentClient.send(new ScanCommand({ TableName: table.tableName }))).Items!.filter(
      (i) => String(i.sk).startsWith('ENTRY#TAG#'),
    );
    expect(entries.map((i) => i.sk)).toEqual(['ENTRY#TAG#00']);
  });
});

describe('items written before slim entries', () => {
  it('are rewritten in the slim form at their first change: listed once by tag, counted once', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table, { keys: [] });
    await ctx.service.register({ id: 'legacy', dms_id: 'dms-a', tags: ['eu', 'x'] });
    // Make it look like an item of the previous layout: no marker, tag entries keyed by tag.
    const { UpdateCommand, DeleteCommand, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await table.documentClient.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: 'DEVICE#legacy', sk: 'DEVICE' },
        UpdateExpression: 'REMOVE mk',
      }),
    );
    for (const [i, tag] of ['eu', 'x'].entries()) {
      const entry = (await table.documentClient.send(new ScanCommand({ TableName: table.tableName }))).Items!.find(
        (item) => item.sk === `ENTRY#TAG#0${i}`,
      )!;
      await table.documentClient.send(
        new DeleteCommand({ TableName: table.tableName, Key: { pk: entry.pk, sk: entry.sk } }),
      );
      await table.documentClient.send(
        new PutCommand({ TableName: table.tableName, Item: { ...entry, sk: `ENTRY#TAG#${tag}` } }),
      );
    }
    const fresh = setup(table, { keys: [] });
    await fresh.service.patch('legacy', MERGE_PATCH, { icon: 'chip' });
    expect((await fresh.service.list(page([f('tags[ct]eu')]))).list.map((d) => d.id)).toEqual(['legacy']);
    const tagEntries = (await table.documentClient.send(new ScanCommand({ TableName: table.tableName })))
      .Items!.filter((i) => String(i.sk).startsWith('ENTRY#TAG#'))
      .map((i) => i.sk);
    expect(tagEntries.sort()).toEqual(['ENTRY#TAG#00', 'ENTRY#TAG#01']);
    expect(await fresh.service.stats([])).toMatchObject({
      total: 1,
      status_distribution: expect.objectContaining({ NO_IDENTITY: 1 }),
    });
  });
});

describe('policy race', () => {
  it(
    'a bind computed with the old policy cannot commit after the ' + 'policy change: it is recomputed with the new one',
    async () => {
      const table = await freshTable(engine);
      const stored = policyRepository({
        client: table.documentClient,
        tableName: table.tableName,
        bookmarks: bookmarkCodec('k'),
      });
      // The bind pauses right after reading the policy, until the policy change and its re-evaluation are done.
      let pause: Promise<void> | undefined;
      let reachedPolicyRead!: () => void;
      const policyRead = new Promise<void>((resolve) => (reachedPolicyRead = resolve));
      const gated: PolicyRepository = {
        ...stored,
        async get(dms) {
          const policy = await stored.get(dms);
          if (pause) {
            const wait = pause;
            pause = undefined;
            reachedPolicyRead();
            await wait;
          }
          return policy;
        },
      };
      // The bind waits for the whole sweep before it retries: a budget no loaded machine runs out of.
      const ctx = setup(table, { policies: gated, retry: { policy: { ...DEFAULT_BACKOFF, budgetMs: 600_000 } } });
      const dms = policyService({ policies: stored, clock: ctx.clock, newId: randomUUID });
      await ctx.service.register({ id: 'racer', dms_id: 'dms-r' });
      // Expires in 40 days: ACTIVE under a 30d/7d policy, RENEWAL_PENDING under 50d/7d.
      await dms.put('dms-r', { settings: { preventive_delta: '30d', critical_delta: '7d' } });
      const pem = (await certificate({ notAfter: new Date(Date.parse('2026-03-15T10:00:00Z') + 40 * DAY) })).pem;

      let release!: () => void;
      pause = new Promise<void>((resolve) => (release = resolve));
      // With If-Match: a moved policy is not the client's 412, the bind is recomputed on the same version.
      const binding = ctx.service.bind('racer', 'identity', { type: 'x509', certificate: parseCertificate(pem) }, 1);
      await policyRead; // the bind holds the 30d policy
      await dms.put('dms-r', { settings: { preventive_delta: '50d', critical_delta: '7d' } });
      const report = await sweep(
        {
          index: sweepIndex({ repository: ctx.repository, client: table.documentClient, tableName: table.tableName }),
          policies: stored,
          service: ctx.service,
          clock: ctx.clock,
        },
        { deadline: Date.now() + 60_000 },
      );
      expect(report.reevaluated).toBe(1); // the walk passed the device before the bind committed
      release();
      const bound = await binding;
      // Computed with the 30d policy the device would be ACTIVE for weeks; with 50d it is RENEWAL_PENDING now.
      expect(bound.status).toBe('RENEWAL_PENDING');
      expect((await ctx.service.get('racer')).status).toBe('RENEWAL_PENDING');
      expect(await stored.jobs()).toEqual([]);
    },
  );
});
