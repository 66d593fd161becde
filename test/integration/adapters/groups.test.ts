/**
 * Device groups on the real DynamoDB adapters and the embedded engine (never mocked): atomic writes
 * with their outbox records and name reservations, the hierarchy under concurrent changes, cascade
 * deletes across several transactions, and members and statistics through the device use cases.
 */
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { groupRepository } from '../../../functions/adapters/dynamodb/group-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../../../functions/app/devices';
import { groupService } from '../../../functions/app/groups';
import { DEVICE_STATUSES, type Device } from '../../../functions/domain/device';
import {
  GroupAlreadyExistsError,
  GroupCycleError,
  GroupDepthExceededError,
  GroupHasChildrenError,
  GroupNameTakenError,
  GroupNotFoundError,
  InvalidBookmarkError,
  ParentGroupNotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../../../functions/domain/errors';
import { compileCriterion, matchesAll, splitFilterParam, type Filter } from '../../../functions/domain/filters';
import type { Criterion, DeviceGroup } from '../../../functions/domain/groups';
import type { DeviceListQuery } from '../../../functions/domain/query';
import type { Engine } from '@device-manager/local-engine';
import { settledCounters, freshTable, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

function setup(table: TestTable, options: { maxDepth?: number; deleteChunk?: number } = {}) {
  const clock = testClock();
  const bookmarks = bookmarkCodec('k');
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 4,
      statsShards: 3,
      bookmarks,
    }),
    table,
    3,
  );
  const policies = policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const groupRepo = groupRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const groups = groupService({
    groups: groupRepo,
    devices,
    clock,
    newId: randomUUID,
    maxDepth: options.maxDepth ?? 4,
    deleteChunk: options.deleteChunk,
  });
  return { clock, repository, devices, groupRepo, groups };
}

const c = (field: string, operand: string, value: string): Criterion => ({ field, operand, value });
const f = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter[0]').filter!;

async function scanAll(table: TestTable) {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await table.documentClient.send(new ScanCommand({ TableName: table.tableName, ExclusiveStartKey }));
    items.push(...(out.Items ?? []));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

const outboxOf = async (table: TestTable) =>
  (await scanAll(table))
    .filter((i) => i.kind === 'outbox')
    .map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)) as { type: string; subject: string; data: any });

/** Every stored group's parent exists and no chain loops. */
function assertForest(groups: DeviceGroup[]) {
  const byId = new Map(groups.map((g) => [g.id, g]));
  for (const g of groups) {
    const seen = new Set<string>();
    for (let at: DeviceGroup | undefined = g; at?.parent_id; at = byId.get(at.parent_id)) {
      expect(byId.has(at.parent_id)).toBe(true);
      expect(seen.has(at.id)).toBe(false);
      seen.add(at.id);
    }
  }
}

describe('create, read, list', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await freshTable(engine);
  });

  it('creates a root group: group item, name reservation and one outbox record in one transaction', async () => {
    const { groups } = setup(table);
    const prod = await groups.create({
      id: 'prod',
      name: 'Production',
      criteria: [c('dms_owner', 'eq', 'dms-factory-1')],
    });
    expect(prod).toEqual({
      id: 'prod',
      name: 'Production',
      description: '',
      parent_id: null,
      criteria: [c('dms_owner', 'eq', 'dms-factory-1')],
      inherited_criteria: [],
      created_at: '2026-03-15T10:00:00.000Z',
      updated_at: '2026-03-15T10:00:00.000Z',
      version: 1,
    });
    const items = await scanAll(table);
    expect(items.filter((i) => i.kind === 'group')).toEqual([
      expect.objectContaining({ pk: 'GROUPS', sk: 'GROUP#prod', version: 1 }),
    ]);
    expect(items.filter((i) => i.kind === 'group-name')).toEqual([
      expect.objectContaining({ group_id: 'prod', name: 'Production', sk: 'GROUPNAME' }),
    ]);
    expect(await outboxOf(table)).toEqual([
      expect.objectContaining({ type: 'device-group.create', subject: 'device-group/prod', data: prod }),
    ]);
    expect(await groups.get('prod')).toEqual(prod);
  });

  it('generates a UUID without an id; a child inherits its parent criteria', async () => {
    const { groups } = setup(table);
    const child = await groups.create({
      name: 'EU',
      parent_id: 'prod',
      description: 'EU plants',
      criteria: [c('tags', 'ct', 'eu')],
    });
    expect(child.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(child).toMatchObject({
      parent_id: 'prod',
      description: 'EU plants',
      inherited_criteria: [c('dms_owner', 'eq', 'dms-factory-1')],
    });
    const hierarchy = (await scanAll(table)).find((i) => i.kind === 'group-hierarchy');
    expect(hierarchy).toMatchObject({ version: 1 });
  });

  it(
    'refuses a duplicate id, a duplicate name in any case, a missing ' + 'parent and invalid criteria; changes nothing',
    async () => {
      const { groups } = setup(table);
      const before = await scanAll(table);
      await expect(groups.create({ id: 'prod', name: 'Other', criteria: [] })).rejects.toThrow(GroupAlreadyExistsError);
      await expect(groups.create({ id: 'prod2', name: 'PRODUCTION', criteria: [] })).rejects.toThrow(
        GroupNameTakenError,
      );
      await expect(groups.create({ id: 'prod3', name: 'Orphan', parent_id: 'nope', criteria: [] })).rejects.toThrow(
        ParentGroupNotFoundError,
      );
      await expect(
        groups.create({ id: 'prod4', name: 'Bad', criteria: [c('tags', 'ct', 'x'), c('tags', 'eq', 'x')] }),
      ).rejects.toThrow(
        expect.objectContaining({
          details: [{ field: 'criteria[1]', problem: "unknown operator 'eq' for field 'tags'" }],
        }),
      );
      await expect(groups.create({ id: 'prod', name: 'Other', parent_id: 'prod', criteria: [] })).rejects.toThrow(
        GroupAlreadyExistsError,
      );
      expect(await scanAll(table)).toEqual(before);
      await expect(groups.get('prod2')).rejects.toThrow(GroupNotFoundError);
    },
  );

  it('lists every group by id with inherited criteria, page by page', async () => {
    const { groups } = setup(table);
    for (const id of ['a-1', 'a-2', 'a-3'])
      await groups.create({ id, name: `A ${id}`, parent_id: 'prod', criteria: [] });
    const seen: string[] = [];
    let bookmark: string | undefined;
    let pages = 0;
    do {
      const page = await groups.list(2, bookmark);
      expect(page.list.length).toBeLessThanOrEqual(2);
      for (const g of page.list)
        if (g.parent_id === 'prod') expect(g.inherited_criteria).toEqual([c('dms_owner', 'eq', 'dms-factory-1')]);
      seen.push(...page.list.map((g) => g.id));
      bookmark = page.next || undefined;
      pages++;
    } while (bookmark);
    expect(seen).toHaveLength(5);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['prod', 'a-1', 'a-2', 'a-3']));
    expect(pages).toBe(3);
    await expect(groups.list(2, 'forged.bookmark')).rejects.toThrow(InvalidBookmarkError);
  });
});

describe('replace and the hierarchy', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await freshTable(engine);
  });

  it(
    'replaces with a new version and an update event; a rename ' + 'frees the old name; a no-op writes nothing',
    async () => {
      const { groups, clock } = setup(table);
      await groups.create({ id: 'root', name: 'Root', criteria: [] });
      const g = await groups.create({ id: 'g', name: 'Old name', parent_id: 'root', criteria: [c('tags', 'ct', 'x')] });
      clock.advance(1000);
      const next = await groups.replace(
        'g',
        { name: 'New name', description: 'd', parent_id: 'root', criteria: [c('tags', 'ct', 'y')] },
        1,
      );
      expect(next).toMatchObject({
        name: 'New name',
        description: 'd',
        criteria: [c('tags', 'ct', 'y')],
        version: 2,
        created_at: g.created_at,
        updated_at: '2026-03-15T10:00:01.000Z',
      });
      const update = (await outboxOf(table)).find((e) => e.type === 'device-group.update');
      expect(update?.data).toEqual({ previous: g, updated: next });
      // The old name is free again; the new one is taken, in any case.
      await groups.create({ id: 'other', name: 'old NAME', criteria: [] });
      await expect(groups.create({ id: 'other2', name: 'NEW NAME', criteria: [] })).rejects.toThrow(
        GroupNameTakenError,
      );
      await expect(groups.replace('other', { name: 'new name', criteria: [] })).rejects.toThrow(GroupNameTakenError);
      // Same content: unchanged, no event, no version.
      const before = await scanAll(table);
      expect(
        await groups.replace('g', {
          name: 'New name',
          description: 'd',
          parent_id: 'root',
          criteria: [c('tags', 'ct', 'y')],
        }),
      ).toEqual(next);
      expect(await scanAll(table)).toEqual(before);
      // A case-only rename keeps the reservation.
      expect(
        (
          await groups.replace('g', {
            name: 'NEW NAME',
            description: 'd',
            parent_id: 'root',
            criteria: [c('tags', 'ct', 'y')],
          })
        ).version,
      ).toBe(3);
    },
  );

  it('412 on a stale If-Match, and nothing changes', async () => {
    const { groups } = setup(table);
    const before = await scanAll(table);
    await expect(groups.replace('g', { name: 'x', criteria: [] }, 1)).rejects.toThrow(PreconditionFailedError);
    await expect(groups.remove('g', { ifMatch: 1 })).rejects.toThrow(PreconditionFailedError);
    expect(await scanAll(table)).toEqual(before);
  });

  it('refuses cycles, missing parents and depth beyond the limit', async () => {
    const { groups } = setup(table); // maxDepth 4
    await groups.create({ id: 'l2', name: 'L2', parent_id: 'g', criteria: [] }); // root → g → l2
    await groups.create({ id: 'l3', name: 'L3', parent_id: 'l2', criteria: [] }); // level 4
    await expect(groups.create({ id: 'l4', name: 'L4', parent_id: 'l3', criteria: [] })).rejects.toThrow(
      GroupDepthExceededError,
    );
    await expect(groups.replace('g', { name: 'NEW NAME', parent_id: 'g', criteria: [] })).rejects.toThrow(
      GroupCycleError,
    );
    await expect(groups.replace('g', { name: 'NEW NAME', parent_id: 'l3', criteria: [] })).rejects.toThrow(
      GroupCycleError,
    );
    await expect(groups.replace('root', { name: 'Root', parent_id: 'l2', criteria: [] })).rejects.toThrow(
      ValidationError,
    );
    await expect(groups.replace('g', { name: 'NEW NAME', parent_id: 'missing', criteria: [] })).rejects.toThrow(
      ParentGroupNotFoundError,
    );
    // Moving g (3 levels) under other (a root) makes 4 levels: allowed; under other's child: 5.
    await groups.create({ id: 'other-child', name: 'Other child', parent_id: 'other', criteria: [] });
    await expect(groups.replace('g', { name: 'NEW NAME', parent_id: 'other-child', criteria: [] })).rejects.toThrow(
      GroupDepthExceededError,
    );
    const moved = await groups.replace('g', { name: 'NEW NAME', parent_id: 'other', criteria: [c('tags', 'ct', 'y')] });
    expect(moved.inherited_criteria).toEqual([]);
    expect((await groups.get('l3')).parent_id).toBe('l2');
  });

  it('two concurrent re-parentings into each other: exactly one wins, the other is a cycle', async () => {
    const { groups, groupRepo } = setup(table, { maxDepth: 10 });
    await groups.create({ id: 'ra', name: 'RA', criteria: [] });
    await groups.create({ id: 'rb', name: 'RB', criteria: [] });
    for (let round = 0; round < 5; round++) {
      await groups.replace('ra', { name: 'RA', criteria: [] });
      await groups.replace('rb', { name: 'RB', criteria: [] });
      const results = await Promise.allSettled([
        groups.replace('ra', { name: 'RA', parent_id: 'rb', criteria: [] }),
        groups.replace('rb', { name: 'RB', parent_id: 'ra', criteria: [] }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(GroupCycleError);
      assertForest((await groupRepo.snapshot()).groups);
    }
  });

  it('a child created while its parent is deleted: never an orphan', async () => {
    const { groups, groupRepo } = setup(table, { maxDepth: 10 });
    for (let round = 0; round < 5; round++) {
      await groups.create({ id: `p${round}`, name: `P${round}`, criteria: [] });
      const results = await Promise.allSettled([
        groups.create({ id: `c${round}`, name: `C${round}`, parent_id: `p${round}`, criteria: [] }),
        groups.remove(`p${round}`),
      ]);
      const [create, remove] = results;
      // Either the delete came first (the create then finds no parent) or the child did (409).
      if (create.status === 'fulfilled')
        expect(remove).toMatchObject({ status: 'rejected', reason: expect.any(GroupHasChildrenError) });
      else expect(create.reason).toBeInstanceOf(ParentGroupNotFoundError);
      assertForest((await groupRepo.snapshot()).groups);
    }
  });
});

describe('delete', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await freshTable(engine);
  });

  it(
    '409 with children; cascade deletes the subtree in several ' + 'transactions, one event per group, names freed',
    async () => {
      const { groups, groupRepo } = setup(table, { maxDepth: 10, deleteChunk: 2 });
      await groups.create({ id: 'keep', name: 'Keep', criteria: [] });
      await groups.create({ id: 'top', name: 'Top', criteria: [] });
      await groups.create({ id: 'm1', name: 'M1', parent_id: 'top', criteria: [] });
      await groups.create({ id: 'm2', name: 'M2', parent_id: 'top', criteria: [] });
      await groups.create({ id: 'leaf', name: 'Leaf', parent_id: 'm1', criteria: [c('tags', 'ct', 'x')] });
      await groups.create({ id: 'keep-child', name: 'Keep child', parent_id: 'keep', criteria: [] });

      const before = await scanAll(table);
      await expect(groups.remove('top')).rejects.toThrow(
        expect.objectContaining({ code: 'GROUP_HAS_CHILDREN', children: 2 }),
      );
      await expect(groups.remove('top', { cascade: false })).rejects.toThrow(GroupHasChildrenError);
      expect(await scanAll(table)).toEqual(before);

      await groups.remove('top', { cascade: true });
      const left = (await groupRepo.snapshot()).groups.map((g) => g.id).sort();
      expect(left).toEqual(['keep', 'keep-child']);
      const deletes = (await outboxOf(table)).filter((e) => e.type === 'device-group.delete');
      expect(deletes.map((e) => e.subject).sort()).toEqual([
        'device-group/leaf',
        'device-group/m1',
        'device-group/m2',
        'device-group/top',
      ]);
      expect(deletes.find((e) => e.subject === 'device-group/leaf')?.data).toMatchObject({
        id: 'leaf',
        parent_id: 'm1',
        criteria: [c('tags', 'ct', 'x')],
      });
      expect((await scanAll(table)).filter((i) => i.kind === 'group-name')).toHaveLength(2);
      await groups.create({ id: 'top', name: 'TOP', criteria: [] }); // id and name free again
      await expect(groups.remove('nope')).rejects.toThrow(GroupNotFoundError);
      await groups.remove('keep-child');
      await groups.remove('keep', { ifMatch: 1 });
      expect((await groupRepo.snapshot()).groups.map((g) => g.id)).toEqual(['top']);
    },
  );
});

describe('members and statistics', () => {
  let table: TestTable;
  let ctx: ReturnType<typeof setup>;
  const fleet: Device[] = [];

  beforeAll(async () => {
    table = await freshTable(engine);
    ctx = setup(table, { maxDepth: 10 });
    for (let i = 0; i < 60; i++) {
      const dms = i % 3 === 0 ? 'dms-x' : 'dms-y';
      const tags = [i % 2 ? 'odd' : 'even', ...(i % 5 === 0 ? ['five'] : [])];
      fleet.push(
        await ctx.devices.register({ id: `dev-${String(i).padStart(2, '0')}`, dms_id: dms, tags, metadata: { n: i } }),
      );
    }
    for (const i of [0, 3, 6, 9, 10]) fleet[i] = await ctx.devices.decommission(fleet[i]!.id);
    await ctx.groups.create({ id: 'x', name: 'X', criteria: [c('dms_owner', 'eq', 'dms-x')] });
    await ctx.groups.create({ id: 'x-even', name: 'X even', parent_id: 'x', criteria: [c('tags', 'ct', 'even')] });
    await ctx.groups.create({
      id: 'x-even-big',
      name: 'X even big',
      parent_id: 'x-even',
      criteria: [c('metadata.n', 'ge', '20')],
    });
    await ctx.groups.create({ id: 'live', name: 'Live', criteria: [c('status', 'ne', 'DECOMMISSIONED')] });
    await ctx.groups.create({
      id: 'live-five',
      name: 'Live five',
      parent_id: 'live',
      criteria: [c('tags', 'ct', 'five')],
    });
  });

  const expected = (...filters: Filter[]) => fleet.filter((d) => matchesAll(d, filters));
  const query = (filters: Filter[] = [], pageSize = 7): DeviceListQuery => ({
    filters,
    sortBy: 'id',
    sortMode: 'asc',
    pageSize,
  });

  async function allMembers(id: string, q: DeviceListQuery): Promise<string[]> {
    const ids: string[] = [];
    let bookmark: string | undefined;
    do {
      const page = await ctx.groups.members(id, { ...q, bookmark });
      expect(page.list.length).toBeLessThanOrEqual(q.pageSize);
      ids.push(...page.list.map((d) => d.id));
      bookmark = page.next || undefined;
    } while (bookmark);
    return ids;
  }

  it('members match every ancestor criterion AND their own, with the request filters on top', async () => {
    const x = f('dms_owner[eq]dms-x');
    const even = f('tags[ct]even');
    const big = f('metadata.n[ge]20');
    expect(await allMembers('x-even-big', query())).toEqual(expected(x, even, big).map((d) => d.id));
    expect(await allMembers('x-even', query([f('metadata.n[lt]30')]))).toEqual(
      expected(x, even, f('metadata.n[lt]30')).map((d) => d.id),
    );
    expect(await allMembers('live-five', query([], 2))).toEqual(
      expected(f('status[ne]DECOMMISSIONED'), f('tags[ct]five')).map((d) => d.id),
    );
    expect(expected(x, even, big).length).toBeGreaterThan(2);
    await expect(ctx.groups.members('nope', query())).rejects.toThrow(GroupNotFoundError);
  });

  it('statistics of a group equal its members counted per status (status criteria allowed)', async () => {
    for (const id of ['x', 'x-even', 'x-even-big', 'live', 'live-five']) {
      const members: Device[] = [];
      let bookmark: string | undefined;
      do {
        const page = await ctx.groups.members(id, { ...query([], 100), bookmark });
        members.push(...page.list);
        bookmark = page.next || undefined;
      } while (bookmark);
      const distribution = Object.fromEntries(
        DEVICE_STATUSES.map((s) => [s, members.filter((d) => d.status === s).length]),
      );
      expect(await ctx.groups.stats(id)).toMatchObject({ total: members.length, status_distribution: distribution });
    }
    expect((await ctx.groups.stats('x', [f('status[eq]DECOMMISSIONED')])).total).toBe(
      expected(f('dms_owner[eq]dms-x'), f('status[eq]DECOMMISSIONED')).length,
    );
    // The device statistics route keeps refusing status filters.
    await expect(async () => ctx.devices.stats([f('status[eq]ACTIVE')])).rejects.toThrow(ValidationError);
  });

  it(
    'statsOfMatching equals a brute-force count for status filters ' + 'with and without an indexed entry point',
    async () => {
      const cases: Filter[][] = [
        [f('status[eq]NO_IDENTITY')],
        [f('status[ne]NO_IDENTITY'), f('dms_owner[eq]dms-x')],
        [f('status[in]NO_IDENTITY,DECOMMISSIONED'), f('tags[ct]five')],
        [f('status[eq]DECOMMISSIONED'), f('metadata.n[lt]7')],
        [f('status[in]ACTIVE'), f('metadata.n[ge]0')],
      ];
      for (const filters of cases) {
        const members = expected(...filters);
        const distribution = Object.fromEntries(
          DEVICE_STATUSES.map((s) => [s, members.filter((d) => d.status === s).length]),
        );
        expect(await ctx.devices.statsOfMatching(filters)).toMatchObject({
          total: members.length,
          status_distribution: distribution,
        });
      }
    },
  );

  it(
    'reads the indexed entry point of the criteria, not the fleet; ' + 'dms_owner + status stats read only counters',
    async () => {
      const before = ctx.repository.itemsRead;
      await ctx.groups.members('x-even-big', query([], 25));
      const listed = ctx.repository.itemsRead - before;
      // Entry point: tags[ct]even (the adapter prefers a tag to a DMS), 30 of the 60 devices: each read at most once
      // from the tag's index partition and once from the table.
      expect(listed).toBeLessThanOrEqual(2 * fleet.filter((d) => d.tags.includes('even')).length + 4);
      expect(listed).toBeLessThan(2 * fleet.length); // the whole fleet would be every index item and every device
      await ctx.groups.create({
        id: 'x-live',
        name: 'X live',
        parent_id: 'x',
        criteria: [c('status', 'in', 'NO_IDENTITY,ACTIVE')],
      });
      const start = ctx.repository.itemsRead;
      const stats = await ctx.groups.stats('x-live');
      // The 3 counter shards of DMS#dms-x and the applier's state.
      expect(ctx.repository.itemsRead - start).toBeLessThanOrEqual(3 + 1);
      expect(stats.total).toBe(expected(f('dms_owner[eq]dms-x'), f('status[in]NO_IDENTITY,ACTIVE')).length);
    },
  );
});
