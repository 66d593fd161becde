/**
 * The device shadow's identity actions through the IoT sync, with the real adapters on mocked SDK clients:
 * UPDATE_CERTIFICATE with the boundary's timestamp on RENEWAL_PENDING and EXPIRING_SOON, cleared when a
 * renewal lands, nothing re-sent on a redelivery, classic or named shadow, the data endpoint looked up once.
 */
import { DescribeEndpointCommand, DescribeThingCommand, IoTClient, UpdateThingCommand } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, ThrottlingException, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { mockClient } from 'aws-sdk-client-mock';
import { shadowSync } from '../../../functions/app/iot-shadow';
import { iotSync } from '../../../functions/app/iot-sync';
import type { IotSyncState, IotSyncStateStore } from '../../../functions/app/ports';
import { iotRegistry } from '../../../functions/adapters/iot/iot-registry';
import { iotShadows } from '../../../functions/adapters/iot/iot-shadows';
import type { Device, Slot } from '../../../functions/domain/device';
import { identityActionsOf } from '../../../functions/domain/identity-actions';
import { windowsOf } from '../../../functions/domain/status';

const iot = mockClient(IoTClient);
const data = mockClient(IoTDataPlaneClient);
const meta = { $metadata: {} };
const EXPIRES = '2027-01-01T00:00:00.000Z';
const DAY = 86_400_000;
const WINDOWS = windowsOf({ preventive_delta: '60d', critical_delta: '14d' });
const at = (ms: number) => Math.floor(ms / 1000);

const identity = (status: Slot['status'], expiration_date = EXPIRES): Slot => ({
  status,
  active_version: 0,
  type: 'SSH_KEY', // no certificate to sync: only the thing and the shadow are in play
  secrets: { '0': 'abc' },
  expiration_date,
  events: {},
});
const device = (status: Slot['status'], version: number, expiration = EXPIRES): Device => ({
  id: 'cam.01',
  tags: [],
  status,
  icon: 'chip',
  icon_color: '#000000',
  creation_timestamp: '2026-03-15T10:00:00.000Z',
  metadata: {},
  dms_owner: 'dms-1',
  identity: identity(status, expiration),
  slots: {},
  events: {},
  version,
});

function memoryStates(): IotSyncStateStore & { map: Map<string, IotSyncState> } {
  const map = new Map<string, IotSyncState>();
  return {
    map,
    get: async (id) => map.get(id),
    put: async (id, state) => void map.set(id, state),
  };
}

function setup(options: { shadowName?: string; endpoint?: string } = {}) {
  let current: Device | undefined;
  const endpoints: (string | undefined)[] = [];
  const sleeps: number[] = [];
  const states = memoryStates();
  const control = new IoTClient({ region: 'eu-west-1' });
  const shadows = iotShadows({
    control,
    region: 'eu-west-1',
    endpoint: options.endpoint,
    env: {},
    dataClient: (url) => {
      endpoints.push(url);
      return new IoTDataPlaneClient({ region: 'eu-west-1', endpoint: url });
    },
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
  });
  const policies: string[] = [];
  const sync = iotSync({
    devices: { get: async () => current, getSlotVersion: async () => undefined },
    iot: iotRegistry({ client: control }),
    states,
    settings: {
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '123456789012',
      metadataKeys: [],
      maxAttributes: 3,
      decommissionCertificateStatus: 'INACTIVE',
      certificateRegistration: 'without-ca',
    },
    shadow: shadowSync({
      shadows,
      settings: { shadowName: options.shadowName },
      windowsOf: async (dms) => {
        policies.push(dms);
        return WINDOWS;
      },
    }),
  });
  return {
    sync,
    states,
    endpoints,
    sleeps,
    policies,
    set: (d: Device) => {
      current = d;
    },
  };
}

/** The desired states sent, as JSON, with the shadow each went to. */
const shadowWrites = () =>
  data.commandCalls(UpdateThingShadowCommand).map((c) => ({
    thingName: c.args[0].input.thingName,
    shadowName: c.args[0].input.shadowName,
    payload: JSON.parse(new TextDecoder().decode(c.args[0].input.payload as Uint8Array)),
  }));

beforeEach(() => {
  iot.reset();
  data.reset();
  iot.on(DescribeThingCommand).resolves({ thingName: 'cam_01', version: 1, attributes: {}, ...meta });
  iot.on(UpdateThingCommand).resolves(meta);
  iot.on(DescribeEndpointCommand).resolves({ endpointAddress: 'abc123-ats.iot.eu-west-1.amazonaws.com', ...meta });
  data.on(UpdateThingShadowCommand).resolves(meta);
});

describe('identityActionsOf', () => {
  const e = Date.parse(EXPIRES);
  it('asks for a certificate from the boundary crossed, and for nothing otherwise', () => {
    expect(identityActionsOf(device('RENEWAL_PENDING', 1), WINDOWS)).toEqual({
      UPDATE_CERTIFICATE: at(e - 60 * DAY),
    });
    expect(identityActionsOf(device('EXPIRING_SOON', 1), WINDOWS)).toEqual({ UPDATE_CERTIFICATE: at(e - 14 * DAY) });
    expect(identityActionsOf(device('ACTIVE', 1), WINDOWS)).toBeNull();
    expect(identityActionsOf(device('REVOKED', 1), WINDOWS)).toBeNull();
    expect(identityActionsOf({ ...device('ACTIVE', 1), status: 'DECOMMISSIONED' }, WINDOWS)).toBeNull();
    expect(identityActionsOf({ status: 'NO_IDENTITY' }, WINDOWS)).toBeNull();
    // Expired: the request already in the shadow stays (the device may still renew).
    expect(identityActionsOf(device('EXPIRED', 1), WINDOWS)).toBe('keep');
  });
});

describe('device shadow identity actions', () => {
  it('writes UPDATE_CERTIFICATE on RENEWAL_PENDING and EXPIRING_SOON, clears it on renewal, once each', async () => {
    const t = setup();
    const e = Date.parse(EXPIRES);
    t.set(device('ACTIVE', 1));
    expect((await t.sync.syncDevice('cam.01')).shadow).toBe('unchanged');
    expect(shadowWrites()).toEqual([]);

    t.set(device('RENEWAL_PENDING', 2));
    expect((await t.sync.syncDevice('cam.01')).shadow).toBe('requested');
    // A redelivery of the same change: nothing is sent again (the sync state shows it in place).
    await t.sync.syncDevice('cam.01');
    t.set(device('EXPIRING_SOON', 3));
    expect((await t.sync.syncDevice('cam.01')).shadow).toBe('requested');
    // A change that moves no boundary (a tag, say): no shadow call.
    t.set(device('EXPIRING_SOON', 4));
    expect((await t.sync.syncDevice('cam.01')).shadow).toBe('unchanged');
    // The renewal landed: a later expiration, ACTIVE again.
    t.set(device('ACTIVE', 5, '2028-01-01T00:00:00.000Z'));
    expect((await t.sync.syncDevice('cam.01')).shadow).toBe('cleared');
    t.set(device('ACTIVE', 6, '2028-01-01T00:00:00.000Z'));
    await t.sync.syncDevice('cam.01');

    expect(shadowWrites()).toEqual([
      {
        thingName: 'cam_01',
        shadowName: undefined,
        payload: { state: { desired: { identity_actions: { UPDATE_CERTIFICATE: at(e - 60 * DAY) } } } },
      },
      {
        thingName: 'cam_01',
        shadowName: undefined,
        payload: { state: { desired: { identity_actions: { UPDATE_CERTIFICATE: at(e - 14 * DAY) } } } },
      },
      { thingName: 'cam_01', shadowName: undefined, payload: { state: { desired: { identity_actions: null } } } },
    ]);
    expect(t.states.map.get('cam.01')?.shadow_actions).toBeUndefined();
    // The policy is read only while a boundary is to be named (versions 2, 3 and 4), not when ACTIVE.
    expect(t.policies).toEqual(['dms-1', 'dms-1', 'dms-1']);
    // The data endpoint: looked up once (iot:Data-ATS), then used as https.
    expect(iot.commandCalls(DescribeEndpointCommand).map((c) => c.args[0].input)).toEqual([
      { endpointType: 'iot:Data-ATS' },
    ]);
    expect(t.endpoints).toEqual(['https://abc123-ats.iot.eu-west-1.amazonaws.com']);
  });

  it('writes a named shadow when one is set, to the configured endpoint without a lookup', async () => {
    const t = setup({ shadowName: 'identity', endpoint: 'xyz-ats.iot.eu-west-1.amazonaws.com' });
    t.set(device('EXPIRING_SOON', 1));
    await t.sync.syncDevice('cam.01');
    expect(shadowWrites().map((w) => [w.thingName, w.shadowName])).toEqual([['cam_01', 'identity']]);
    expect(t.states.map.get('cam.01')?.shadow_actions).toBe(`UPDATE_CERTIFICATE@${at(Date.parse(EXPIRES) - 14 * DAY)}`);
    expect(iot.commandCalls(DescribeEndpointCommand)).toHaveLength(0);
    expect(t.endpoints).toEqual(['https://xyz-ats.iot.eu-west-1.amazonaws.com']);
  });

  it("writes the shadow its DMS names; a change of it clears the old shadow's request and writes the new", async () => {
    const shadows = iotShadows({
      control: new IoTClient({ region: 'eu-west-1' }),
      region: 'eu-west-1',
      endpoint: 'xyz-ats.iot.eu-west-1.amazonaws.com',
      env: {},
      dataClient: (url) => new IoTDataPlaneClient({ region: 'eu-west-1', endpoint: url }),
      sleep: async () => undefined,
      random: () => 1,
    });
    const s = shadowSync({ shadows, settings: { shadowName: 'identity' }, windowsOf: async () => WINDOWS });
    const soon = device('EXPIRING_SOON', 1);
    const key = `UPDATE_CERTIFICATE@${at(Date.parse(EXPIRES) - 14 * DAY)}`;
    const named = await s.sync('cam_01', soon, {}, 'fleet-a');
    expect(named).toEqual({ actions: key, shadowName: 'fleet-a', outcome: 'requested' });
    expect(await s.sync('cam_01', soon, named, 'fleet-a')).toMatchObject({ outcome: 'unchanged' });
    // The DMS now says the classic shadow (null), then nothing (the deployment's `identity`).
    const classic = await s.sync('cam_01', soon, named, null);
    expect(classic).toEqual({ actions: key, shadowName: undefined, outcome: 'requested' });
    const stack = await s.sync('cam_01', soon, classic, undefined);
    expect(stack).toMatchObject({ shadowName: 'identity', outcome: 'requested' });
    // EXPIRED keeps the request where it is, whatever the DMS says now.
    expect(await s.sync('cam_01', device('EXPIRED', 2), stack, 'fleet-b')).toEqual({
      actions: key,
      shadowName: 'identity',
      outcome: 'unchanged',
    });
    const request = { identity_actions: { UPDATE_CERTIFICATE: at(Date.parse(EXPIRES) - 14 * DAY) } };
    expect(shadowWrites().map((w) => [w.shadowName, w.payload.state.desired])).toEqual([
      ['fleet-a', request],
      ['fleet-a', { identity_actions: null }],
      [undefined, request],
      [undefined, { identity_actions: null }],
      ['identity', request],
    ]);
  });

  it('retries a throttled shadow write, and a failed one is written by the redelivery', async () => {
    const t = setup();
    data
      .on(UpdateThingShadowCommand)
      .rejectsOnce(new ThrottlingException({ message: 'slow down', ...meta }))
      .rejectsOnce(new Error('connection reset'))
      .resolves(meta);
    t.set(device('RENEWAL_PENDING', 1));
    await expect(t.sync.syncDevice('cam.01')).rejects.toThrow('connection reset');
    expect(t.sleeps).toHaveLength(1);
    expect(t.states.map.get('cam.01')?.last_error).toMatch(/connection reset/);
    await t.sync.syncDevice('cam.01');
    expect(shadowWrites()).toHaveLength(3);
    expect(t.states.map.get('cam.01')).toMatchObject({ device_version: 1, shadow_actions: expect.any(String) });
    expect(t.states.map.get('cam.01')?.last_error).toBeUndefined();
  });
});
