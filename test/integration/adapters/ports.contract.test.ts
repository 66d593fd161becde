/**
 * The contract of the storage ports (functions/app/ports.ts), one suite run against both
 * implementations: the DynamoDB adapters on the embedded engine (several shards, so sharding stays
 * the adapter's business) and the in-memory ports the use-case unit tests run on.
 */
import { randomUUID } from 'node:crypto';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { connectivityStore } from '../../../functions/adapters/dynamodb/connectivity-store';
import { devicePurge } from '../../../functions/adapters/dynamodb/device-purge';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { groupRepository } from '../../../functions/adapters/dynamodb/group-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../../../functions/app/devices';
import { presenceService } from '../../../functions/app/presence';
import type {
  ConnectivityStore,
  DevicePurge,
  DeviceRepository,
  DeviceStats,
  GroupRepository,
  PolicyRepository,
} from '../../../functions/app/ports';
import { DEVICE_STATUSES, type Device, newDevice } from '../../../functions/domain/device';
import {
  DeviceAlreadyExistsError,
  GroupAlreadyExistsError,
  GroupNameTakenError,
  IndexNotReadyError,
  InvalidBookmarkError,
  PolicyMovedError,
  VersionConflictError,
} from '../../../functions/domain/errors';
import { compileCriterion, type Filter, matchesAll, splitFilterParam } from '../../../functions/domain/filters';
import { type DeviceGroup, newGroup } from '../../../functions/domain/groups';
import { JOB_PAGE_BYTE_BUDGET } from '../../../functions/domain/jobs';
import { lifecycleOf } from '../../../functions/domain/lifecycle';
import { deviceCreated } from '../../../functions/domain/outbox';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import type { DmsPolicy } from '../../../functions/domain/policy';
import type { SortField, SortMode } from '../../../functions/domain/query';
import { DEFAULT_RENEWAL } from '../../../functions/domain/status';
import type { Engine } from '@device-manager/local-engine';
import { settledCounters, freshTable, startTestEngine, testClock } from '../../support/dynamo';
import { memoryPorts } from '../../support/memory';

interface Ports {
  devices: DeviceRepository;
  purge: DevicePurge;
  policies: PolicyRepository;
  groups: GroupRepository;
  connectivity: ConnectivityStore;
}

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

const KEYS = ['region'];

async function dynamodbPorts(): Promise<Ports> {
  const table = await freshTable(engine);
  const bookmarks = bookmarkCodec('contract');
  const common = { client: table.documentClient, tableName: table.tableName, bookmarks };
  return {
    // Counters follow the stream: counter reads first wait for the applier (test/support/dynamo.ts).
    devices: settledCounters(
      deviceRepository({ ...common, listShards: 4, statsShards: 3, dueShards: 4, indexedMetadataKeys: KEYS }),
      table,
      3,
    ),
    purge: devicePurge({ client: table.documentClient, tableName: table.tableName, statsShards: 3 }),
    policies: policyRepository(common),
    groups: groupRepository(common),
    connectivity: connectivityStore({ client: table.documentClient, tableName: table.tableName, listShards: 4 }),
  };
}

const IMPLEMENTATIONS: [string, () => Promise<Ports>][] = [
  ['in memory', async () => memoryPorts({ indexedMetadataKeys: KEYS })],
  ['DynamoDB (embedded engine)', dynamodbPorts],
];

const f = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter[0]').filter!;

const byStatus = (devices: readonly Device[]): DeviceStats => {
  const distribution = Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as DeviceStats['status_distribution'];
  for (const d of devices) distribution[d.status] += 1;
  return { total: devices.length, status_distribution: distribution, consistent_as_of: expect.any(String) };
};

const sortKey = (d: Device, sortBy: SortField) =>
  sortBy === 'id'
    ? d.id
    : `${sortBy === 'creation_timestamp' ? d.creation_timestamp : (d.identity?.expiration_date ?? '~')}#${d.id}`;

describe.each(IMPLEMENTATIONS)('storage ports: %s', (_name, make) => {
  let ports: Ports;
  const clock = testClock();
  const service = () => deviceService({ devices: ports.devices, policies: ports.policies, clock, newId: randomUUID });

  beforeEach(async () => {
    clock.set('2026-03-15T10:00:00.000Z');
    ports = await make();
  });

  const register = async (id: string, dms = 'dms-a', extra: Partial<Parameters<typeof newDevice>[0]> = {}) => {
    const { device, event } = newDevice({ id, dms_id: dms, ...extra }, clock.now());
    await ports.devices.save({
      after: device,
      events: [event],
      outbox: [deviceCreated(randomUUID(), device, event.timestamp)],
    });
    return device;
  };

  /** A fleet with every sort key varied: DMSs, tags, metadata, identities expiring on different days. */
  async function fleet(): Promise<Device[]> {
    for (let i = 0; i < 12; i++) {
      clock.set(`2026-03-15T10:00:${String(59 - i).padStart(2, '0')}.000Z`);
      await service().register({
        id: `dev-${String((i * 7) % 12).padStart(2, '0')}`,
        dms_id: i % 3 === 0 ? 'dms-b' : 'dms-a',
        tags: i % 2 === 0 ? ['even'] : ['odd'],
        metadata: { region: i % 4 === 0 ? 'eu' : 'us', n: i },
      });
    }
    clock.set('2026-03-16T00:00:00.000Z');
    for (const [n, days] of [
      [1, 400],
      [4, 20],
      [6, 100],
      [9, 5],
    ] as const)
      await service().bind(`dev-${String(n).padStart(2, '0')}`, 'identity', {
        type: 'x509',
        serial_number: `0a${n}`,
        expiration_date: new Date(clock.now().getTime() + days * 86_400_000).toISOString(),
      });
    await service().decommission('dev-03');
    return (await Promise.all(Array.from({ length: 12 }, (_, i) => ports.devices.get(`dev-${pad(i)}`)))).map((d) => d!);
  }
  const pad = (n: number) => String(n).padStart(2, '0');

  test('a registered device reads back whole, lifecycle included; an unknown id reads undefined', async () => {
    await service().register({ id: 'd1', dms_id: 'dms-a', tags: ['t'], metadata: { a: { b: [1, null] } } });
    const read = await ports.devices.get('d1');
    expect(read).toMatchObject({ id: 'd1', version: 1, tags: ['t'], metadata: { a: { b: [1, null] } } });
    expect(lifecycleOf(read!).map((e) => e.type)).toEqual(['CREATED']);
    expect(await ports.devices.get('nobody')).toBeUndefined();
  });

  test('devices read together: those that exist, by id, as read alone', async () => {
    const first = await register('m-1', 'dms-a');
    const second = await register('m-2', 'dms-b');
    const found = await ports.devices.getMany(['m-2', 'nobody', 'm-1', 'm-2']);
    expect([...found.keys()].sort()).toEqual(['m-1', 'm-2']);
    expect(found.get('m-1')).toEqual(first);
    expect(found.get('m-2')).toEqual(second);
  });

  test('registering an existing id throws DeviceAlreadyExistsError and keeps the stored device', async () => {
    const first = await register('d1', 'dms-a');
    await expect(register('d1', 'dms-b')).rejects.toBeInstanceOf(DeviceAlreadyExistsError);
    expect(await ports.devices.get('d1')).toEqual(first);
  });

  test('new devices saved several at once: each created or refused, a refused one not written', async () => {
    const existing = await register('n-1', 'dms-old');
    const changes = ['n-0', 'n-1', 'n-2'].map((id) => {
      const { device, event } = newDevice({ id, dms_id: 'dms-new' }, clock.now());
      return { after: device, events: [event], outbox: [deviceCreated(randomUUID(), device, event.timestamp)] };
    });
    const { created, refused } = await ports.devices.saveNew(changes);
    expect([...created, ...refused].sort()).toEqual(['n-0', 'n-1', 'n-2']);
    expect(refused).toContain('n-1');
    expect(await ports.devices.get('n-1')).toEqual(existing);
    for (const id of created) expect(await ports.devices.get(id)).toMatchObject({ id, dms_owner: 'dms-new' });
    for (const id of refused.filter((r) => r !== 'n-1')) expect(await ports.devices.get(id)).toBeUndefined();
  });

  test(
    'a change commits only on the version it was ' +
      'computed from, and never with a policy older ' +
      'than the device saw',
    async () => {
      const before = await register('d1');
      const after = { ...before, tags: ['x'], version: 2 };
      // The policy job's walk stamped the device with version 2 of its DMS's policy (the fence on the device).
      await ports.devices.setDue('d1', 1, null, { dms: 'dms-a', version: 2 });
      await ports.devices.save({ before, after, events: [], outbox: [] });
      await expect(
        ports.devices.save({ before, after: { ...before, tags: ['y'], version: 2 }, events: [], outbox: [] }),
      ).rejects.toBeInstanceOf(VersionConflictError);
      const moved = ports.devices.save({
        before: after,
        after: { ...after, tags: ['z'], version: 3 },
        events: [],
        outbox: [],
        policy: { dms: 'dms-a', version: 1 },
      });
      await expect(moved).rejects.toBeInstanceOf(PolicyMovedError);
      expect(await ports.devices.get('d1')).toMatchObject({ tags: ['x'], version: 2 });
      const unchanged = { ...after, tags: ['z'], version: 3 };
      await ports.devices.save({
        before: after,
        after: unchanged,
        events: [],
        outbox: [],
        policy: { dms: 'dms-a', version: 2 },
      });
      expect(await ports.devices.get('d1')).toMatchObject({ tags: ['z'], version: 3 });
    },
  );

  test('events come newest first, page by page; a bookmark of another device is refused', async () => {
    await service().register({ id: 'd1', dms_id: 'dms-a' });
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      await service().patch('d1', MERGE_PATCH, { metadata: { i } });
    }
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = await ports.devices.listEvents('d1', 2, next);
      expect(page.list.length).toBeLessThanOrEqual(2);
      seen.push(...page.list.map((e) => `${e.timestamp} ${e.type}`));
      next = page.next || undefined;
      if (next) await expect(ports.devices.listEvents('d2', 2, next)).rejects.toBeInstanceOf(InvalidBookmarkError);
    } while (next);
    expect(seen).toHaveLength(5);
    expect(seen.at(-1)).toMatch(/ CREATED$/);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  test('every sort order pages through exactly the matching devices, in order', async () => {
    const all = await fleet();
    const filterSets = [[], [f('dms_owner[eq]dms-b')], [f('tags[ct]even')], [f('status[eq]NO_IDENTITY')]];
    filterSets.push([f('metadata.region[eq]eu')], [f('metadata.n[lt]6'), f('status[ne]DECOMMISSIONED')]);
    filterSets.push([f('id[eq]dev-05')], [f('id[eq]dev-05'), f('tags[ct]even')]);
    for (const filters of filterSets)
      for (const sortBy of ['creation_timestamp', 'id', 'identity.expiration_date'] as SortField[])
        for (const sortMode of ['asc', 'desc'] as SortMode[]) {
          const expected = all
            .filter((d) => matchesAll(d, filters))
            .sort((a, b) => (sortKey(a, sortBy) < sortKey(b, sortBy) ? -1 : 1) * (sortMode === 'asc' ? 1 : -1))
            .map((d) => d.id);
          const got: string[] = [];
          let bookmark: string | undefined;
          do {
            const page = await ports.devices.list({ filters, sortBy, sortMode, pageSize: 3, bookmark });
            expect(page.list.length).toBeLessThanOrEqual(3);
            got.push(...page.list.map((d) => d.id));
            bookmark = page.next || undefined;
          } while (bookmark);
          expect({ filters: filters.length, sortBy, sortMode, got }).toEqual({
            filters: filters.length,
            sortBy,
            sortMode,
            got: expected,
          });
        }
  });

  test('a page ends at maxBytes and goes on from there; a tampered bookmark is refused', async () => {
    await fleet();
    const query = { filters: [], sortBy: 'id' as const, sortMode: 'asc' as const, pageSize: 10 };
    const one = Buffer.byteLength(JSON.stringify(await ports.devices.get('dev-00')));
    const first = await ports.devices.list({ ...query, maxBytes: one + 10 });
    expect(first.list.map((d) => d.id)).toEqual(['dev-00']);
    const rest = await ports.devices.list({ ...query, bookmark: first.next });
    expect(rest.list.map((d) => d.id)).toEqual(Array.from({ length: 10 }, (_, i) => `dev-${pad(i + 1)}`));
    await expect(ports.devices.list({ ...query, bookmark: `${first.next}x` })).rejects.toBeInstanceOf(
      InvalidBookmarkError,
    );
  });

  test("a caller's byteBudget replaces the response budget: a page of larger devices stays whole", async () => {
    // 30 devices of about 20 KB: the response budget (DEFAULT_LIST_BYTE_BUDGET) holds fewer than 30.
    for (let i = 0; i < 30; i++) await register(`big-${pad(i)}`, 'dms-a', { metadata: { blob: 'x'.repeat(20_000) } });
    const query = { filters: [], sortBy: 'id' as const, sortMode: 'asc' as const, pageSize: 30 };
    const answer = await ports.devices.list(query);
    expect(answer.list.length).toBeLessThan(30);
    expect(answer.next).not.toBe('');
    const whole = await ports.devices.list({ ...query, byteBudget: JOB_PAGE_BYTE_BUDGET });
    expect(whole.list.map((d) => d.id)).toEqual(Array.from({ length: 30 }, (_, i) => `big-${pad(i)}`));
    expect(whole.next).toBe('');
  });

  test('statistics count the matching devices by status', async () => {
    const all = await fleet();
    for (const filters of [[], [f('dms_owner[eq]dms-a')], [f('tags[ct]odd')], [f('metadata.n[ge]5')]])
      expect(await ports.devices.stats(filters)).toEqual(byStatus(all.filter((d) => matchesAll(d, filters))));
  });

  test('slot versions read back, are found by serial, and are rewritten only from what is stored', async () => {
    await fleet();
    const v1 = await ports.devices.getSlotVersion('dev-04', 'identity', 0);
    expect(v1).toMatchObject({ device_id: 'dev-04', slot: 'identity', version: 0, status: 'ACTIVE' });
    expect(await ports.devices.getSlotVersion('dev-04', 'identity', 1)).toBeUndefined();
    expect(await ports.devices.findSlotVersionsBySerial('a4')).toEqual([
      { deviceId: 'dev-04', slot: 'identity', version: 0 },
    ]);
    expect(await ports.devices.findSlotVersionsBySerial('0b0b')).toEqual([]);
    const revoked = { ...v1!, status: 'REVOKED' as const };
    await ports.devices.saveSlotVersion(revoked, v1!);
    await expect(ports.devices.saveSlotVersion({ ...v1!, status: 'SUPERSEDED' }, v1!)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect(await ports.devices.getSlotVersion('dev-04', 'identity', 0)).toEqual(revoked);
  });

  test('metadata values wait for their back-fill, then count devices by value and status', async () => {
    const all = await fleet();
    await expect(ports.devices.metadataValues('region', 10)).rejects.toBeInstanceOf(IndexNotReadyError);
    expect(await ports.devices.backfillIndexes(Date.now() + 60_000, 50)).toMatchObject({ complete: true });
    const { values, other } = await ports.devices.metadataValues('region', 10);
    expect(other).toBe(0);
    expect(values.sort((a, b) => a.value.localeCompare(b.value))).toMatchObject(
      ['"eu"', '"us"'].map((value) => {
        const { consistent_as_of: _, ...counts } = byStatus(
          all.filter((d) => JSON.stringify(d.metadata.region) === value),
        );
        return { value, stats: counts };
      }),
    );
    await expect(ports.devices.metadataValues('n', 10)).rejects.toBeInstanceOf(IndexNotReadyError);
  });

  test('expirations count the active identities by day, in all or one DMS', async () => {
    await fleet();
    const days = await ports.devices.expirationsByDay(undefined, '2026-06-30');
    expect(Object.fromEntries(days)).toEqual({
      '2026-03-21': { identity: 1, slots: 0 },
      '2026-04-05': { identity: 1, slots: 0 },
      '2026-06-24': { identity: 1, slots: 0 },
    });
    // dev-09 and dev-06 are of dms-b (registered 4th and 7th).
    expect(Object.fromEntries(await ports.devices.expirationsByDay('dms-b', '2026-06-30'))).toEqual({
      '2026-03-21': { identity: 1, slots: 0 },
      '2026-06-24': { identity: 1, slots: 0 },
    });
  });

  test('the due index serves passed boundaries oldest first across its shards, and moves on setDue', async () => {
    const at = Date.parse('2026-04-01T00:00:00.000Z');
    const devices: Device[] = [];
    for (let i = 0; i < 9; i++) {
      const d = await register(`due-${i}`);
      const after = { ...d, version: 2 };
      await ports.devices.save({ before: d, after, events: [], outbox: [], due: at + (i % 3) * 1000 - i });
      devices.push(after);
    }
    const dueUpTo = async (now: number) => {
      const found: { id: string; firstDue?: number }[] = [];
      for (let shard = 0; shard < ports.devices.dueShards; shard++) {
        let after: string | undefined;
        do {
          const page = await ports.devices.dueDevices(shard, now, 2, after);
          page.devices.forEach((d, i) => found.push({ id: d.id, firstDue: i === 0 ? page.firstDue : undefined }));
          after = page.next;
        } while (after !== undefined);
      }
      return found;
    };
    expect((await dueUpTo(at - 10_000)).length).toBe(0);
    expect((await dueUpTo(at)).map((d) => d.id).sort()).toEqual(['due-0', 'due-3', 'due-6']);
    // The oldest passed boundary of the index, from any shard's first entry (what the dispatcher reads).
    const firsts = async (now: number) =>
      (
        await Promise.all(Array.from({ length: ports.devices.dueShards }, (_, s) => ports.devices.firstDue(s, now)))
      ).filter((t) => t !== undefined);
    expect(await firsts(at - 10_000)).toEqual([]);
    expect(Math.min(...(await firsts(at + 5000)))).toBe(at - 6);
    expect(Math.min(...(await firsts(at)))).toBe(at - 6);
    expect((await dueUpTo(at + 5000)).map((d) => d.id).sort()).toEqual(devices.map((d) => d.id).sort());
    await ports.devices.setDue('due-0', 2, null);
    await ports.devices.setDue('due-3', 2, at + 100_000);
    await expect(ports.devices.setDue('due-6', 1, null)).rejects.toBeInstanceOf(VersionConflictError);
    await ports.devices.setDue('due-6', 2, at - 6, { dms: 'dms-a', version: 4 });
    await expect(ports.devices.setDue('due-6', 2, null, { dms: 'dms-a', version: 3 })).rejects.toBeInstanceOf(
      PolicyMovedError,
    );
    expect((await dueUpTo(at)).map((d) => d.id)).toEqual(['due-6']);
    const firstDue = (await dueUpTo(at)).find((d) => d.firstDue !== undefined)?.firstDue;
    expect(firstDue).toBe(at - 6);
  });

  test('every device of a DMS is walked once, page by page', async () => {
    const all = await fleet();
    const found: string[] = [];
    for (let shard = 0; shard < ports.devices.listShards; shard++) {
      let after: string | undefined;
      do {
        const page = await ports.devices.devicesOfDms('dms-b', shard, 2, after);
        found.push(...page.devices.map((d) => d.id));
        after = page.next;
      } while (after !== undefined);
    }
    expect(found.sort()).toEqual(all.filter((d) => d.dms_owner === 'dms-b').map((d) => d.id));
  });

  test('a purge drops the device from reads and statistics, keeps its history, refuses a stale version', async () => {
    const all = await fleet();
    const gone = all.find((d) => d.id === 'dev-03')!;
    await expect(ports.purge.purge({ ...gone, version: gone.version - 1 }, [])).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    await ports.purge.purge(gone, []);
    expect(await ports.devices.get('dev-03')).toBeUndefined();
    expect((await ports.devices.stats([])).total).toBe(11);
    const listed = await ports.devices.list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 20 });
    expect(listed.list.map((d) => d.id)).not.toContain('dev-03');
    expect((await ports.devices.listEvents('dev-03', 10)).list.map((e) => e.type)).toContain('DECOMMISSIONED');
  });

  test('presence: the connected filter lists, the counts follow each change, a purge leaves them', async () => {
    const all = await fleet();
    const presence = presenceService({ store: ports.connectivity, clock });
    const at = clock.now().getTime();
    const events = (type: 'connected' | 'disconnected', ids: string[], t: number) =>
      ids.map((clientId) => ({ clientId, eventType: type, timestamp: t }));
    await presence.apply(events('connected', ['dev-01', 'dev-02', 'dev-03', 'dev-05'], at));
    expect(await presence.apply(events('disconnected', ['dev-05'], at + 1000))).toMatchObject({ deferred: ['dev-05'] });
    clock.set(new Date(at + 61_000).toISOString());
    await presence.apply(events('disconnected', ['dev-02', 'dev-05'], at + 61_000));
    const ids = async (connected: boolean, filters: Filter[] = []) =>
      (await ports.devices.list({ filters, connected, sortBy: 'id', sortMode: 'asc', pageSize: 20 })).list.map(
        (d) => d.id,
      );
    expect(await ids(true)).toEqual(['dev-01', 'dev-03']);
    expect(await ids(false)).toEqual(['dev-02', 'dev-05']);
    const dmsB = all.filter((d) => d.dms_owner === 'dms-b').map((d) => d.id);
    expect(await ids(true, [f('dms_owner[eq]dms-b')])).toEqual(['dev-01', 'dev-03'].filter((id) => dmsB.includes(id)));
    expect(await ports.devices.connectivityCounts()).toEqual({ connected: 2, disconnected: 2 });
    // A connect again moves a device from one count to the other; a purge takes it out of both.
    clock.set(new Date(at + 122_000).toISOString());
    await presence.apply(events('connected', ['dev-02'], at + 122_000));
    await ports.purge.purge(all.find((d) => d.id === 'dev-03')!, []);
    expect(await ports.devices.connectivityCounts()).toEqual({ connected: 2, disconnected: 1 });
    expect(await ids(true)).toEqual(['dev-01', 'dev-02']);
  });

  const group = (id: string, name: string, parent: string | null = null): DeviceGroup =>
    newGroup(id, { name, parent_id: parent, criteria: [] }, clock.now());

  test('groups read back by id, in batches, in pages and in a snapshot at the hierarchy version', async () => {
    for (const id of ['g3', 'g1', 'g4', 'g2'])
      await ports.groups.save({ puts: [{ after: group(id, `name ${id}`) }], deletes: [], outbox: [] });
    await ports.groups.save({
      puts: [{ after: group('g5', 'five', 'g1') }],
      deletes: [],
      hierarchyVersion: 0,
      outbox: [],
    });
    expect(await ports.groups.get('g5')).toEqual(group('g5', 'five', 'g1'));
    expect(await ports.groups.get('g9')).toBeUndefined();
    expect((await ports.groups.getMany(['g2', 'g9', 'g2', 'g4'])).map((g) => g.id).sort()).toEqual(['g2', 'g4']);
    const ids: string[] = [];
    let next: string | undefined;
    do {
      const page = await ports.groups.list(2, next);
      ids.push(...page.list.map((g) => g.id));
      next = page.next || undefined;
    } while (next);
    expect(ids).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    const snap = await ports.groups.snapshot();
    expect(snap.hierarchyVersion).toBe(1);
    expect(snap.groups.map((g) => g.id).sort()).toEqual(ids);
  });

  test('a group change commits whole or not at all, naming what failed', async () => {
    const a = group('a', 'Production EU');
    await ports.groups.save({ puts: [{ after: a }], deletes: [], outbox: [] });
    const save = (change: Parameters<GroupRepository['save']>[0]) => ports.groups.save(change);
    await expect(save({ puts: [{ after: group('a', 'other') }], deletes: [], outbox: [] })).rejects.toBeInstanceOf(
      GroupAlreadyExistsError,
    );
    await expect(
      save({ puts: [{ after: group('b', 'production eu') }], deletes: [], outbox: [] }),
    ).rejects.toBeInstanceOf(GroupNameTakenError);
    const renamed = { ...a, name: 'Staging', version: 2 };
    await expect(
      save({ puts: [{ before: { ...a, version: 5 }, after: renamed }], deletes: [], outbox: [] }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    await expect(
      save({ puts: [{ after: group('c', 'child', 'a') }], deletes: [], hierarchyVersion: 3, outbox: [] }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await ports.groups.get('c')).toBeUndefined();
    await save({ puts: [{ before: a, after: renamed }], deletes: [], outbox: [] });
    // The old name is free again, the new one taken.
    await save({ puts: [{ after: group('b', 'PRODUCTION eu') }], deletes: [], outbox: [] });
    await expect(save({ puts: [{ after: group('d', 'staging') }], deletes: [], outbox: [] })).rejects.toBeInstanceOf(
      GroupNameTakenError,
    );
    await expect(save({ puts: [], deletes: [a], outbox: [] })).rejects.toBeInstanceOf(VersionConflictError);
    await save({ puts: [], deletes: [renamed], hierarchyVersion: 0, outbox: [] });
    expect(await ports.groups.get('a')).toBeUndefined();
    expect((await ports.groups.snapshot()).hierarchyVersion).toBe(1);
    await save({ puts: [{ after: group('d', 'staging') }], deletes: [], outbox: [] });
  });

  test('policies: conditioned writes, pages by DMS, one re-evaluation job per change', async () => {
    const policy = (id: string, version: number): DmsPolicy => ({ id, name: id, settings: DEFAULT_RENEWAL, version });
    await ports.policies.save(undefined, policy('p2', 1), []);
    await ports.policies.save(undefined, policy('p1', 1), []);
    await expect(ports.policies.save(undefined, policy('p1', 1), [])).rejects.toBeInstanceOf(VersionConflictError);
    await expect(ports.policies.save(policy('p1', 3), policy('p1', 4), [])).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    const first = await ports.policies.list(1);
    expect(first.list.map((p) => p.id)).toEqual(['p1']);
    expect((await ports.policies.list(1, first.next)).list.map((p) => p.id)).toEqual(['p2']);
    expect(await ports.policies.get('p2')).toEqual(policy('p2', 1));
    const job = (await ports.policies.jobs()).find((j) => j.dms === 'p1')!;
    expect(job).toEqual({ dms: 'p1', progress: {}, policyVersion: 1 });
    await ports.policies.updateJob({ ...job, progress: { 0: 'x' } }, false);
    expect((await ports.policies.jobs()).find((j) => j.dms === 'p1')?.progress).toEqual({ 0: 'x' });
    await ports.policies.save(policy('p1', 1), policy('p1', 2), []);
    // The older job's progress is moot once a newer one replaced it.
    await ports.policies.updateJob(job, true);
    expect((await ports.policies.jobs()).find((j) => j.dms === 'p1')).toEqual({
      dms: 'p1',
      progress: {},
      policyVersion: 2,
    });
    await ports.policies.updateJob({ ...job, policyVersion: 2 }, true);
    expect((await ports.policies.jobs()).map((j) => j.dms)).toEqual(['p2']);
    // Parallel walkers record one segment each; the job goes once every segment is done.
    const p2 = (await ports.policies.jobs()).find((j) => j.dms === 'p2')!;
    expect(await ports.policies.recordJobProgress(p2, '0', 'done', ['0', '1'])).toBe('running');
    expect(await ports.policies.recordJobProgress(p2, '1', 'x', ['0', '1'])).toBe('running');
    expect((await ports.policies.jobs()).find((j) => j.dms === 'p2')?.progress).toEqual({ 0: 'done', 1: 'x' });
    expect(await ports.policies.recordJobProgress({ ...p2, policyVersion: 9 }, '1', 'done', ['0', '1'])).toBe(
      'replaced',
    );
    expect(await ports.policies.recordJobProgress(p2, '1', 'done', ['0', '1'])).toBe('done');
    expect(await ports.policies.jobs()).toEqual([]);
  });
});
