/**
 * The registry's use cases on the real DynamoDB adapter and the embedded engine (never mocked).
 */
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { deviceService } from '../../../functions/app/devices';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { DEVICE_STATUSES, type Device } from '../../../functions/domain/device';
import {
  DeviceAlreadyExistsError,
  DeviceNotFoundError,
  InvalidBookmarkError,
  PreconditionFailedError,
} from '../../../functions/domain/errors';
import { compileCriterion, matchesAll, splitFilterParam, type Filter } from '../../../functions/domain/filters';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import type { DeviceListQuery, SortField, SortMode } from '../../../functions/domain/query';
import type { Engine } from '@device-manager/local-engine';
import { settledCounters, freshTable, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

function setup(table: TestTable, listShards = 4) {
  const clock = testClock();
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards,
      statsShards: 3,
      bookmarks: bookmarkCodec('k'),
    }),
    table,
    3,
  );
  const policies = policyRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec('k'),
  });
  const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  return { clock, repository, service };
}

const f = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter[0]').filter!;

async function scanAll(table: TestTable) {
  const out = await table.documentClient.send(new ScanCommand({ TableName: table.tableName }));
  return out.Items ?? [];
}

async function listAll(
  service: ReturnType<typeof setup>['service'],
  query: Omit<DeviceListQuery, 'bookmark'>,
): Promise<Device[]> {
  const all: Device[] = [];
  let bookmark: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await service.list({ ...query, bookmark });
    expect(result.list.length).toBeLessThanOrEqual(query.pageSize);
    all.push(...result.list);
    if (result.next === '') return all;
    bookmark = result.next;
  }
  throw new Error('pagination did not end');
}

describe('register, read, decommission', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await freshTable(engine);
  });

  it('registers a device with a CREATED event, counters and an outbox record in one transaction', async () => {
    const { service, repository } = setup(table);
    const device = await service.register({ id: 'dev-1', dms_id: 'dms-a', tags: ['eu'], metadata: { fw: '1.0' } });
    expect(device).toMatchObject({
      id: 'dev-1',
      status: 'NO_IDENTITY',
      dms_owner: 'dms-a',
      version: 1,
      tags: ['eu'],
      slots: {},
    });
    expect(device.identity).toBeUndefined();
    expect(await service.get('dev-1')).toEqual(device);
    const items = await scanAll(table);
    expect(
      items.filter((i) => i.kind === 'outbox').map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)).type),
    ).toEqual(['device.create']);
    expect(items.filter((i) => i.kind === 'event')).toEqual([
      expect.objectContaining({ type: 'CREATED', timestamp: device.creation_timestamp }),
    ]);
    expect(await repository.stats([])).toMatchObject({
      total: 1,
      status_distribution: expect.objectContaining({ NO_IDENTITY: 1, ACTIVE: 0 }),
    });
  });

  it('refuses a duplicate id and changes nothing', async () => {
    const { service, repository } = setup(table);
    const before = await scanAll(table);
    await expect(service.register({ id: 'dev-1', dms_id: 'dms-b' })).rejects.toThrow(DeviceAlreadyExistsError);
    expect(await scanAll(table)).toEqual(before);
    expect((await repository.stats([])).total).toBe(1);
  });

  it('decommissions once (status, two events, counters moved) and is idempotent', async () => {
    const { service, repository } = setup(table);
    const after = await service.decommission('dev-1');
    expect(after.status).toBe('DECOMMISSIONED');
    expect(after.version).toBe(2);
    expect(Object.values(after.events).map((e) => e.type)).toEqual(['CREATED', 'DECOMMISSIONED', 'STATUS-UPDATED']);
    const again = await service.decommission('dev-1');
    expect(again).toEqual(after);
    const stats = await repository.stats([]);
    expect(stats.status_distribution).toMatchObject({ NO_IDENTITY: 0, DECOMMISSIONED: 1 });
    const outbox = (await scanAll(table))
      .filter((i) => i.kind === 'outbox')
      .map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)));
    expect(outbox.map((e) => e.type).sort()).toEqual(['device.create', 'device.decommission', 'device.status.update']);
    expect(outbox.find((e) => e.type === 'device.status.update').data).toEqual({
      previous: { status: 'NO_IDENTITY' },
      updated: { status: 'DECOMMISSIONED' },
    });
    expect(
      await service.list({ filters: [f('status[eq]DECOMMISSIONED')], sortBy: 'id', sortMode: 'asc', pageSize: 10 }),
    ).toMatchObject({ list: [{ id: 'dev-1' }] });
    expect(
      (await service.list({ filters: [f('status[eq]NO_IDENTITY')], sortBy: 'id', sortMode: 'asc', pageSize: 10 })).list,
    ).toEqual([]);
  });

  it('answers DeviceNotFoundError for unknown devices', async () => {
    const { service } = setup(table);
    await expect(service.get('nope')).rejects.toThrow(DeviceNotFoundError);
    await expect(service.patch('nope', MERGE_PATCH, { icon: 'x' })).rejects.toThrow(DeviceNotFoundError);
    await expect(service.events('nope', 10)).rejects.toThrow(DeviceNotFoundError);
  });
});

describe('optimistic concurrency', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await freshTable(engine);
  });

  it('merges 12 concurrent blind patches: none is lost', async () => {
    const { service } = setup(table);
    await service.register({ id: 'hot', dms_id: 'dms-a' });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => service.patch('hot', MERGE_PATCH, { metadata: { [`k${i}`]: i } })),
    );
    const device = await service.get('hot');
    expect(device.version).toBe(13);
    expect(Object.keys(device.metadata).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `k${i}`).sort());
    const history = await service.events('hot', 100);
    expect(history.list.filter((e) => e.type === 'SHADOW-UPDATED')).toHaveLength(12);
  });

  it('rejects a stale If-Match with 412 and changes nothing', async () => {
    const { service } = setup(table);
    const current = await service.get('hot');
    await expect(service.patch('hot', MERGE_PATCH, { icon: 'x' }, current.version - 1)).rejects.toThrow(
      PreconditionFailedError,
    );
    await expect(service.decommission('hot', current.version + 5)).rejects.toThrow(PreconditionFailedError);
    expect(await service.get('hot')).toEqual(current);
    const patched = await service.patch('hot', MERGE_PATCH, { icon: 'x' }, current.version);
    expect(patched).toMatchObject({ icon: 'x', version: current.version + 1 });
  });

  it('a patch that changes nothing writes nothing', async () => {
    const { service } = setup(table);
    const current = await service.get('hot');
    expect(await service.patch('hot', MERGE_PATCH, { icon: current.icon })).toEqual(current);
    expect(await service.get('hot')).toEqual(current);
  });
});

describe('lists: order, pagination, entry points', () => {
  let table: TestTable;
  let ctx: ReturnType<typeof setup>;
  const statuses = ['NO_IDENTITY', 'DECOMMISSIONED'] as const;
  let fleet: Device[];

  beforeAll(async () => {
    table = await freshTable(engine);
    ctx = setup(table);
    for (let i = 0; i < 60; i++) {
      ctx.clock.advance(1000 + (i % 7) * 13);
      // ids not in creation order, so sorts differ
      await ctx.service.register({
        id: `d-${(i * 37) % 60}`.padEnd(6, 'x'),
        dms_id: `dms-${i % 3}`,
        tags: i % 4 === 0 ? ['eu', 'even'] : i % 2 === 0 ? ['even'] : ['odd'],
        metadata: { n: i },
      });
    }
    for (let i = 0; i < 60; i += 5) await ctx.service.decommission(`d-${(i * 37) % 60}`.padEnd(6, 'x'));
    fleet = await listAll(ctx.service, { filters: [], sortBy: 'creation_timestamp', sortMode: 'asc', pageSize: 1000 });
  });

  const sorters: Record<SortField, (d: Device) => string> = {
    creation_timestamp: (d) => `${d.creation_timestamp}#${d.id}`,
    id: (d) => d.id,
    'identity.expiration_date': (d) => `${d.identity?.expiration_date ?? '~'}#${d.id}`,
  };

  it.each([
    ['creation_timestamp', 'asc'],
    ['creation_timestamp', 'desc'],
    ['id', 'asc'],
    ['id', 'desc'],
    ['identity.expiration_date', 'asc'],
  ] as [SortField, SortMode][])(
    'pages of 7 sorted by %s %s return every device once, in order',
    async (sortBy, sortMode) => {
      expect(fleet).toHaveLength(60);
      const listed = await listAll(ctx.service, { filters: [], sortBy, sortMode, pageSize: 7 });
      const expected = [...fleet].sort((a, b) => (sorters[sortBy](a) < sorters[sortBy](b) ? -1 : 1));
      if (sortMode === 'desc') expected.reverse();
      expect(listed.map((d) => d.id)).toEqual(expected.map((d) => d.id));
    },
  );

  it.each([
    ['tags[ct]eu'],
    ['tags[ct]odd'],
    ['dms_owner[eq]dms-1'],
    ['status[eq]DECOMMISSIONED'],
    ['status[in]DECOMMISSIONED,ACTIVE'],
    ['tags[ct_ic]EVEN'],
    ['metadata.n[ge]30'],
    ['id[eq]d-37xx'],
  ])('filter %s returns exactly the matching devices, paginated', async (param) => {
    const filter = f(param);
    const listed = await listAll(ctx.service, {
      filters: [filter, f('metadata.n[lt]55')],
      sortBy: 'id',
      sortMode: 'asc',
      pageSize: 4,
    });
    const expected = fleet.filter((d) => (d.metadata.n as number) < 55 && matchesAll(d, [filter]));
    expect(listed.map((d) => d.id)).toEqual(expected.map((d) => d.id).sort());
    expect(listed.length).toBeGreaterThan(0);
  });

  it('reads the page devices once plus a bounded number of slim index items when unfiltered', async () => {
    const before = ctx.repository.itemsRead;
    const page = await ctx.service.list({ filters: [], sortBy: 'creation_timestamp', sortMode: 'asc', pageSize: 25 });
    expect(page.list).toHaveLength(25);
    // 25 devices (BatchGetItem) + the slim index items the merge examined: a first chunk of
    // ⌈1.5 × 25 / 4⌉ + 1 = 11 per shard, and at most a short refill.
    expect(ctx.repository.itemsRead - before).toBeLessThanOrEqual(25 + 4 * 11 + 8);
  });

  it('reads only the tag partition for a tag filter', async () => {
    const before = ctx.repository.itemsRead;
    const all = await listAll(ctx.service, {
      filters: [f('tags[ct]eu')],
      sortBy: 'creation_timestamp',
      sortMode: 'asc',
      pageSize: 1000,
    });
    expect(all).toHaveLength(15);
    // Each tagged device once in the tag's index partition, once from the table.
    expect(ctx.repository.itemsRead - before).toBeLessThanOrEqual(2 * 15);
  });

  it('rejects a bookmark used with another query', async () => {
    const page = await ctx.service.list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 5 });
    expect(page.next).not.toBe('');
    await expect(
      ctx.service.list({
        filters: [],
        sortBy: 'creation_timestamp',
        sortMode: 'asc',
        pageSize: 5,
        bookmark: page.next,
      }),
    ).rejects.toThrow(InvalidBookmarkError);
    await expect(
      ctx.service.list({ filters: [f('tags[ct]eu')], sortBy: 'id', sortMode: 'asc', pageSize: 5, bookmark: page.next }),
    ).rejects.toThrow(InvalidBookmarkError);
  });

  it('statistics equal a recount, for counters and for filtered counts', async () => {
    const recount = (devices: Device[]) => {
      const distribution = Object.fromEntries(
        DEVICE_STATUSES.map((s) => [s, devices.filter((d) => d.status === s).length]),
      );
      return { total: devices.length, status_distribution: distribution };
    };
    expect(await ctx.service.stats([])).toMatchObject(recount(fleet));
    expect(await ctx.service.stats([f('dms_owner[eq]dms-2')])).toMatchObject(
      recount(fleet.filter((d) => d.dms_owner === 'dms-2')),
    );
    expect(await ctx.service.stats([f('tags[ct]even'), f('dms_owner[eq]dms-0')])).toMatchObject(
      recount(fleet.filter((d) => d.tags.includes('even') && d.dms_owner === 'dms-0')),
    );
    expect(await ctx.service.stats([f('metadata.n[lt]10')])).toMatchObject(
      recount(fleet.filter((d) => (d.metadata.n as number) < 10)),
    );
    expect(statuses.every((s) => fleet.some((d) => d.status === s))).toBe(true);
  });

  it('device events come newest first, paginated with an exact last page', async () => {
    const id = fleet[0]!.id;
    const first = await ctx.service.events(id, 1);
    expect(first.list).toHaveLength(1);
    const second = await ctx.service.events(id, 1, first.next);
    expect(second.list).toHaveLength(1);
    expect(second.list[0]!.timestamp < first.list[0]!.timestamp).toBe(true);
    const all = await ctx.service.events(id, 10);
    expect(all.next).toBe('');
    expect(all.list.map((e) => e.type)).toEqual(['STATUS-UPDATED', 'DECOMMISSIONED', 'CREATED']);
    await expect(ctx.service.events(fleet[1]!.id, 1, first.next)).rejects.toThrow(InvalidBookmarkError);
  });
});

describe('transaction conflicts', () => {
  it('retries TransactionConflict cancellations until the write lands', async () => {
    const conflicted = await startTestEngine({ conflictRate: 0.3 });
    try {
      const table = await freshTable(conflicted);
      const { service, repository } = setup(table);
      await Promise.all(Array.from({ length: 20 }, (_, i) => service.register({ id: `c-${i}`, dms_id: 'dms-a' })));
      await Promise.all(Array.from({ length: 20 }, (_, i) => service.decommission(`c-${i}`)));
      expect(await repository.stats([])).toMatchObject({
        total: 20,
        status_distribution: expect.objectContaining({ DECOMMISSIONED: 20, NO_IDENTITY: 0 }),
      });
    } finally {
      await conflicted.stop();
    }
  });
});
