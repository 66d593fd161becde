/** The DMS policy use cases on the in-memory ports (test/support/memory). */
import { deviceService } from '../../../functions/app/devices';
import { policyService } from '../../../functions/app/policies';
import { PolicyMovedError, PreconditionFailedError, ValidationError } from '../../../functions/domain/errors';
import { DEFAULT_RENEWAL } from '../../../functions/domain/status';
import { testClock } from '../../support/dynamo';
import { memoryPorts } from '../../support/memory';

const DAY = 86_400_000;

function setup() {
  const ports = memoryPorts();
  const clock = testClock('2026-03-15T10:00:00.000Z');
  let ids = 0;
  const newId = () => `id-${++ids}`;
  return { ports, clock, dms: policyService({ policies: ports.policies, clock, newId }), newId };
}

describe('policy use cases on the in-memory ports', () => {
  test('a DMS without a policy has the defaults (version 0); a put stores version 1, its event, a job', async () => {
    const { ports, dms } = setup();
    expect(await dms.get('dms-a')).toEqual({ id: 'dms-a', name: 'dms-a', settings: DEFAULT_RENEWAL, version: 0 });
    const settings = { preventive_delta: '30d', critical_delta: '7d' };
    const stored = await dms.put('dms-a', { name: 'Factory', settings }, 0);
    expect(stored).toEqual({ id: 'dms-a', name: 'Factory', settings, version: 1 });
    expect(await dms.get('dms-a')).toEqual(stored);
    expect(ports.state.outbox).toMatchObject([
      { type: 'dms.update', subject: 'dms/dms-a', data: { previous: { version: 0 }, updated: stored } },
    ]);
    expect(await ports.policies.jobs()).toEqual([{ dms: 'dms-a', progress: {}, policyVersion: 1 }]);
    await expect(dms.put('dms-a', { settings }, 0)).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(
      dms.put('dms-a', { settings: { preventive_delta: '7d', critical_delta: '30d' } }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect((await dms.list(10)).list.map((p) => p.version)).toEqual([1]);
  });

  test('a device change computed with the policy before a put does not land after its re-evaluation', async () => {
    const { ports, clock, dms, newId } = setup();
    const devices = deviceService({ devices: ports.devices, policies: ports.policies, clock, newId });
    await devices.register({ id: 'd1', dms_id: 'dms-a' });
    const expiration = new Date(clock.now().getTime() + 100 * DAY).toISOString();
    await devices.bind('d1', 'identity', { type: 'x509', serial_number: '0a', expiration_date: expiration });
    const device = (await ports.devices.get('d1'))!;
    await dms.put('dms-a', { settings: { preventive_delta: '120d', critical_delta: '14d' } });
    // The job's walk re-evaluates the device with the new policy and stamps its version on the device.
    expect(await devices.refresh(device)).toBe(true);
    const current = (await ports.devices.get('d1'))!;
    // A stale change (version 0 of the policy) is refused by the fence; the use case recomputes with the new one.
    const stale = { before: current, after: { ...current, version: current.version + 1 }, events: [], outbox: [] };
    await expect(ports.devices.save({ ...stale, policy: { dms: 'dms-a', version: 0 } })).rejects.toBeInstanceOf(
      PolicyMovedError,
    );
    expect(await devices.get('d1')).toMatchObject({ status: 'RENEWAL_PENDING' });
  });
});

describe('per-DMS AWS IoT settings, stored with the policy', () => {
  test('a put stores them with the defaults filled; absent keeps them, null removes them', async () => {
    const { dms } = setup();
    const settings = { preventive_delta: '30d', critical_delta: '7d' };
    const stored = await dms.put('dms-a', { settings, iot: { thing_groups: ['factory-1'] } });
    expect(stored.iot).toEqual({ policies: [], thing_groups: ['factory-1'], registration: 'on-bind' });
    expect((await dms.put('dms-a', { settings })).iot).toEqual(stored.iot);
    const removed = await dms.put('dms-a', { settings, iot: null });
    expect(removed).not.toHaveProperty('iot');
    expect(await dms.get('dms-a')).toEqual(removed);
  });
});
