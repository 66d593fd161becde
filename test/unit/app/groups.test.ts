/**
 * The group use cases on the in-memory ports (test/support/memory): hierarchy rules, optimistic
 * concurrency, cascades, members. The same ports' DynamoDB behaviour is held by the contract suite.
 */
import { deviceService } from '../../../functions/app/devices';
import { groupService } from '../../../functions/app/groups';
import type { GroupChange } from '../../../functions/app/ports';
import type { RetryTimer } from '../../../functions/app/retry';
import {
  GroupAlreadyExistsError,
  GroupCycleError,
  GroupDepthExceededError,
  GroupHasChildrenError,
  GroupNameTakenError,
  GroupNotFoundError,
  ParentGroupNotFoundError,
  PreconditionFailedError,
} from '../../../functions/domain/errors';
import type { Criterion } from '../../../functions/domain/filters';
import { testClock } from '../../support/dynamo';
import { memoryPorts } from '../../support/memory';

const c = (field: string, operand: string, value: string): Criterion => ({ field, operand, value });
const fakeTimer = (): RetryTimer => {
  let t = 0;
  return { now: () => t, sleep: async (ms) => void (t += ms), random: () => 0.5 };
};

function setup(deleteChunk = 25) {
  const ports = memoryPorts();
  const clock = testClock('2026-03-15T10:00:00.000Z');
  let ids = 0;
  const newId = () => `id-${++ids}`;
  const retry = { timer: fakeTimer() };
  const devices = deviceService({ devices: ports.devices, policies: ports.policies, clock, newId, retry });
  const saves: GroupChange[] = [];
  const save = ports.groups.save.bind(ports.groups);
  ports.groups.save = (change) => {
    saves.push(change);
    return save(change);
  };
  const groups = groupService({ groups: ports.groups, devices, clock, newId, maxDepth: 3, retry, deleteChunk });
  return { ports, devices, groups, saves, clock };
}

const criteria = [c('dms_owner', 'eq', 'dms-a')];

describe('group use cases on the in-memory ports', () => {
  test('a child group inherits its ancestors criteria; each change is one group event', async () => {
    const { ports, groups } = setup();
    await groups.create({ id: 'root', name: 'Root', criteria });
    const child = await groups.create({
      id: 'child',
      name: 'Child',
      parent_id: 'root',
      criteria: [c('tags', 'ct', 'eu')],
    });
    expect(child.inherited_criteria).toEqual(criteria);
    expect(await groups.get('child')).toEqual(child);
    expect((await groups.list(10)).list.map((g) => g.id)).toEqual(['child', 'root']);
    expect(ports.state.outbox.map((e) => e.type)).toEqual(['device-group.create', 'device-group.create']);
    await expect(groups.create({ id: 'root', name: 'Other', criteria })).rejects.toBeInstanceOf(
      GroupAlreadyExistsError,
    );
    await expect(groups.create({ id: 'x', name: 'root', criteria })).rejects.toBeInstanceOf(GroupNameTakenError);
  });

  test('the hierarchy holds: parents exist, no cycle, the depth limit', async () => {
    const { groups } = setup();
    await expect(groups.create({ name: 'orphan', parent_id: 'nobody', criteria })).rejects.toBeInstanceOf(
      ParentGroupNotFoundError,
    );
    await groups.create({ id: 'a', name: 'A', criteria });
    await groups.create({ id: 'b', name: 'B', parent_id: 'a', criteria });
    await groups.create({ id: 'c', name: 'C', parent_id: 'b', criteria });
    await expect(groups.create({ name: 'D', parent_id: 'c', criteria })).rejects.toBeInstanceOf(
      GroupDepthExceededError,
    );
    await expect(groups.replace('a', { name: 'A', parent_id: 'c', criteria })).rejects.toBeInstanceOf(GroupCycleError);
  });

  test('a replacement is conditioned on If-Match; one that changes nothing writes nothing', async () => {
    const { groups, saves } = setup();
    const created = await groups.create({ id: 'a', name: 'A', criteria });
    expect(await groups.replace('a', { name: 'A', criteria })).toEqual(created);
    expect(saves).toHaveLength(1);
    const renamed = await groups.replace('a', { name: 'Renamed', criteria }, 1);
    expect(renamed).toMatchObject({ name: 'Renamed', version: 2 });
    await expect(groups.replace('a', { name: 'Again', criteria }, 1)).rejects.toBeInstanceOf(PreconditionFailedError);
    // The old name is free again.
    await groups.create({ id: 'b', name: 'a', criteria });
  });

  test('a group with children is deleted only with cascade, leaves first, in chunks of the set size', async () => {
    const { ports, groups, saves } = setup(2);
    await groups.create({ id: 'r', name: 'R', criteria });
    for (const id of ['x', 'y']) await groups.create({ id, name: id, parent_id: 'r', criteria });
    await groups.create({ id: 'z', name: 'z', parent_id: 'x', criteria });
    await expect(groups.remove('r')).rejects.toBeInstanceOf(GroupHasChildrenError);
    const before = saves.length;
    await groups.remove('r', { cascade: true });
    const deletes = saves.slice(before).map((s) => s.deletes.map((g) => g.id));
    expect(deletes).toHaveLength(2);
    const order = deletes.flat();
    expect(order.sort()).toEqual(['r', 'x', 'y', 'z']);
    expect(deletes.flat().indexOf('z')).toBeLessThan(deletes.flat().indexOf('x'));
    expect(deletes.flat().at(-1)).toBe('r');
    expect((await ports.groups.snapshot()).groups).toEqual([]);
    await expect(groups.get('r')).rejects.toBeInstanceOf(GroupNotFoundError);
  });

  test('members and their statistics follow the effective criteria and the request filters', async () => {
    const { devices, groups } = setup();
    for (let i = 0; i < 6; i++)
      await devices.register({ id: `d${i}`, dms_id: i < 4 ? 'dms-a' : 'dms-b', tags: i % 2 ? ['eu'] : [] });
    await devices.decommission('d1');
    await groups.create({ id: 'a', name: 'A', criteria });
    await groups.create({ id: 'eu', name: 'EU', parent_id: 'a', criteria: [c('tags', 'ct', 'eu')] });
    const page = await groups.members('eu', { filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 10 });
    expect(page.list.map((d) => d.id)).toEqual(['d1', 'd3']);
    expect(await groups.stats('eu')).toMatchObject({
      total: 2,
      status_distribution: { NO_IDENTITY: 1, DECOMMISSIONED: 1 },
    });
    await expect(
      groups.members('nobody', { filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1 }),
    ).rejects.toBeInstanceOf(GroupNotFoundError);
  });
});
