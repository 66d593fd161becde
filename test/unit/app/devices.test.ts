/**
 * The device use cases on the in-memory ports (test/support/memory): the rules of each use case,
 * without a table. The same ports' DynamoDB behaviour is held by the contract suite.
 */
import { deviceDeletion } from '../../../functions/app/device-deletion';
import { deviceService } from '../../../functions/app/devices';
import { insightsService } from '../../../functions/app/insights';
import type { DeviceChange, Telemetry } from '../../../functions/app/ports';
import type { RetryTimer } from '../../../functions/app/retry';
import {
  ContentionError,
  DeviceAlreadyExistsError,
  DeviceNotDecommissionedError,
  DeviceNotFoundError,
  PreconditionFailedError,
  SlotNotFoundError,
  ValidationError,
} from '../../../functions/domain/errors';
import { compileCriterion, type Filter, splitFilterParam } from '../../../functions/domain/filters';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import { testClock } from '../../support/dynamo';
import { memoryPorts } from '../../support/memory';

const DAY = 86_400_000;
const f = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter[0]').filter!;

/** Sleeping advances the fake time: a retry schedule runs at once and its budget still ends. */
const fakeTimer = (): RetryTimer => {
  let t = 0;
  return { now: () => t, sleep: async (ms) => void (t += ms), random: () => 0.5 };
};

function setup(options: { keys?: string[] } = {}) {
  const ports = memoryPorts({ indexedMetadataKeys: options.keys });
  const clock = testClock('2026-03-15T10:00:00.000Z');
  let ids = 0;
  const counted: string[] = [];
  const telemetry: Telemetry = {
    deviceCreated: () => counted.push('created'),
    statusChanged: (from, to) => counted.push(`${from}->${to}`),
  };
  const service = deviceService({
    devices: ports.devices,
    policies: ports.policies,
    clock,
    newId: () => `id-${++ids}`,
    retry: { timer: fakeTimer() },
    telemetry,
  });
  return { ports, clock, service, counted };
}

const types = (ports: ReturnType<typeof setup>['ports']) => ports.state.outbox.map((e) => e.type);

describe('device use cases on the in-memory ports', () => {
  test('register stores the device, its CREATED event and one device.create record, and counts it', async () => {
    const { ports, service, counted } = setup();
    const device = await service.register({ id: 'd1', dms_id: 'dms-a', tags: ['a', 'a', 'b'] });
    expect(device).toMatchObject({ id: 'd1', version: 1, status: 'NO_IDENTITY', tags: ['a', 'b'] });
    expect(await service.get('d1')).toEqual(device);
    expect((await service.events('d1', 10)).list.map((e) => e.type)).toEqual(['CREATED']);
    expect(types(ports)).toEqual(['device.create']);
    expect(counted).toEqual(['created']);
    await expect(service.register({ id: 'd1', dms_id: 'dms-b' })).rejects.toBeInstanceOf(DeviceAlreadyExistsError);
    expect(types(ports)).toEqual(['device.create']);
  });

  test('a patch records what changed; an empty change writes nothing; a stale If-Match is 412', async () => {
    const { ports, service } = setup();
    await service.register({ id: 'd1', dms_id: 'dms-a' });
    const patched = await service.patch('d1', MERGE_PATCH, { metadata: { fw: '1.2' }, tags: ['x'] }, 1);
    expect(patched).toMatchObject({ version: 2, metadata: { fw: '1.2' }, tags: ['x'] });
    expect((await service.events('d1', 1)).list[0]).toMatchObject({
      type: 'SHADOW-UPDATED',
      description: 'Updated tags, metadata',
    });
    expect(await service.patch('d1', MERGE_PATCH, { tags: ['x'] })).toEqual(patched);
    await expect(service.patch('d1', MERGE_PATCH, { tags: [] }, 1)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(types(ports)).toEqual(['device.create', 'device.update']);
    await expect(service.patch('nobody', MERGE_PATCH, { tags: [] })).rejects.toBeInstanceOf(DeviceNotFoundError);
  });

  test('a blind write that lost a race is re-applied to the fresh device; with If-Match it is 412', async () => {
    const { ports, service, clock } = setup();
    await service.register({ id: 'd1', dms_id: 'dms-a', tags: ['t'] });
    const save = ports.devices.save.bind(ports.devices);
    let races = 1;
    // Another writer commits between this writer's read and its write, once.
    ports.devices.save = async (change: DeviceChange) => {
      if (change.before && races-- > 0) {
        const other = { ...change.before, icon: 'Other', version: change.before.version + 1 };
        await save({ before: change.before, after: other, events: [], outbox: [] });
      }
      return save(change);
    };
    const device = await service.patch('d1', MERGE_PATCH, { metadata: { a: 1 } });
    expect(device).toMatchObject({ version: 3, icon: 'Other', metadata: { a: 1 } });
    races = 1;
    clock.advance(1000);
    await expect(service.patch('d1', MERGE_PATCH, { metadata: { a: 2 } }, 3)).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect(await service.get('d1')).toMatchObject({ version: 4, metadata: { a: 1 } });
  });

  test('a write that keeps losing its race ends in ContentionError once the retry budget is spent', async () => {
    const { ports, service } = setup();
    await service.register({ id: 'd1', dms_id: 'dms-a' });
    const save = ports.devices.save.bind(ports.devices);
    ports.devices.save = async (change: DeviceChange) => {
      if (change.before) {
        const other = { ...change.before, version: change.before.version + 1 };
        await save({ before: change.before, after: other, events: [], outbox: [] });
      }
      return save(change);
    };
    await expect(service.patch('d1', MERGE_PATCH, { tags: ['x'] })).rejects.toBeInstanceOf(ContentionError);
  });

  test('binding an identity stores its version, sets the status and the due boundary; revoking ends it', async () => {
    const { ports, service, clock } = setup();
    await service.register({ id: 'd1', dms_id: 'dms-a' });
    const expiration = new Date(clock.now().getTime() + 100 * DAY).toISOString();
    const bound = await service.bind('d1', 'identity', {
      type: 'x509',
      serial_number: '0A:1B',
      expiration_date: expiration,
    });
    expect(bound).toMatchObject({ version: 2, status: 'ACTIVE', identity: { active_version: 0 } });
    expect(await service.slotVersion('d1', 'identity', 0)).toMatchObject({ status: 'ACTIVE', serial_number: '0A:1B' });
    await expect(service.slotVersion('d1', 'identity', 1)).rejects.toBeInstanceOf(SlotNotFoundError);
    // The preventive window (60 days before expiry) is the next boundary.
    const due = await ports.devices.dueDevices(0, clock.now().getTime() + 41 * DAY, 10);
    expect(due.devices.map((d) => d.id)).toEqual(['d1']);
    expect(due.firstDue).toBe(Date.parse(expiration) - 60 * DAY);

    const revoked = await service.revoke('d1', 'identity', 'KeyCompromise');
    expect(revoked.identity?.status).toBe('REVOKED');
    expect(await service.revoke('d1', 'identity', 'KeyCompromise')).toEqual(revoked);
    await expect(service.revoke('d1', 'spare', 'KeyCompromise')).rejects.toBeInstanceOf(SlotNotFoundError);
  });

  test('the sweeper refresh persists a crossed boundary once, and only moves the due entry otherwise', async () => {
    const { ports, service, clock, counted } = setup();
    await service.register({ id: 'd1', dms_id: 'dms-a' });
    const expiration = clock.now().getTime() + 100 * DAY;
    await service.bind('d1', 'identity', {
      type: 'x509',
      serial_number: '0a1b',
      expiration_date: new Date(expiration).toISOString(),
    });
    clock.set(new Date(expiration - 50 * DAY).toISOString());
    const [found] = (await ports.devices.dueDevices(0, clock.now().getTime(), 10)).devices;
    expect(await service.refresh(found!)).toBe(true);
    expect(await service.get('d1')).toMatchObject({ status: 'RENEWAL_PENDING', version: 3 });
    // A second sweeper holding the same stale read finds nothing left to change.
    expect(await service.refresh(found!)).toBe(false);
    expect(counted.filter((c) => c.includes('->'))).toEqual(['NO_IDENTITY->ACTIVE', 'ACTIVE->RENEWAL_PENDING']);
    const next = await ports.devices.dueDevices(0, clock.now().getTime(), 10);
    expect(next.devices).toEqual([]);
  });

  test('a CA report of a revoked certificate changes its device; an unknown serial changes nothing', async () => {
    const { service, clock } = setup();
    await service.register({ id: 'd1', dms_id: 'dms-a' });
    await service.bind('d1', 'identity', {
      type: 'x509',
      serial_number: '0a1b',
      expiration_date: new Date(clock.now().getTime() + 100 * DAY).toISOString(),
    });
    expect(await service.applyCertificateStatus('ff', 'REVOKED')).toEqual([]);
    const [result] = await service.applyCertificateStatus('0A:1B', 'REVOKED', 'KeyCompromise');
    expect(result).toMatchObject({ device_id: 'd1', slot: 'identity', version: 0, outcome: 'changed' });
    expect((await service.get('d1'))?.identity?.status).toBe('REVOKED');
    const [again] = await service.applyCertificateStatus('0a1b', 'REVOKED', 'KeyCompromise');
    expect(again?.outcome).toBe('unchanged');
  });

  test('decommission is terminal and idempotent; only then may the device be deleted', async () => {
    const { ports, service, clock } = setup();
    await service.register({ id: 'd1', dms_id: 'dms-a' });
    const deletion = deviceDeletion({ devices: ports.devices, purge: ports.purge, clock, newId: () => 'del-1' });
    await expect(deletion.remove('d1')).rejects.toBeInstanceOf(DeviceNotDecommissionedError);
    const done = await service.decommission('d1');
    expect(done).toMatchObject({ status: 'DECOMMISSIONED', version: 2 });
    expect(await service.decommission('d1')).toEqual(done);
    await deletion.remove('d1');
    expect(await ports.devices.get('d1')).toBeUndefined();
    await expect(deletion.remove('d1')).rejects.toBeInstanceOf(DeviceNotFoundError);
    expect(types(ports)).toEqual(['device.create', 'device.decommission', 'device.status.update', 'device.delete']);
  });

  test('statistics refuse a status filter; statistics of matching devices mask the distribution by it', async () => {
    const { service } = setup();
    for (let i = 0; i < 5; i++) await service.register({ id: `d${i}`, dms_id: i < 3 ? 'dms-a' : 'dms-b' });
    await service.decommission('d0');
    expect(() => service.stats([f('status[eq]NO_IDENTITY')])).toThrow(ValidationError);
    expect(await service.stats([f('dms_owner[eq]dms-a')])).toMatchObject({
      total: 3,
      status_distribution: { NO_IDENTITY: 2, DECOMMISSIONED: 1 },
    });
    expect(await service.statsOfMatching([f('dms_owner[eq]dms-a'), f('status[ne]DECOMMISSIONED')])).toMatchObject({
      total: 2,
      status_distribution: { NO_IDENTITY: 2, DECOMMISSIONED: 0 },
    });
  });

  test('insights: the most common values of an indexed key, the rest as other; an unindexed key is a 400', async () => {
    const { ports, service, clock } = setup({ keys: ['fw'] });
    for (let i = 0; i < 6; i++)
      await service.register({ id: `d${i}`, dms_id: 'dms-a', metadata: { fw: i < 3 ? '1.0' : i < 5 ? '2.0' : '3.0' } });
    await ports.devices.backfillIndexes(Date.now() + 60_000, 100);
    const insights = insightsService({ devices: ports.devices, clock });
    const top = await insights.metadataDistribution('fw', 2);
    expect(top.values.map((v) => [v.value, v.total])).toEqual([
      ['"1.0"', 3],
      ['"2.0"', 2],
    ]);
    expect(top.other).toBe(1);
    await expect(insights.metadataDistribution('site')).rejects.toBeInstanceOf(ValidationError);
  });
});
