/**
 * The AWS IoT sync with the real IoT adapter on a mocked IoTClient: every path, with the exact
 * parameters sent (create, update, attach, revoke, decommission, already-exists, throttling,
 * version conflict, superseded certificate, attribute rules).
 */
import {
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateCertificateCommand,
  UpdateThingCommand,
  VersionConflictException,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import {
  attributeValueOf,
  iotSync,
  type IotSyncSettings,
  thingAttributesOf,
  thingNameOf,
} from '../../../functions/app/iot-sync';
import { iotRegistry } from '../../../functions/adapters/iot/iot-registry';
import type { Device, Slot } from '../../../functions/domain/device';
import type { SlotVersion } from '../../../functions/domain/slots';

const iot = mockClient(IoTClient);
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const FP0 = 'a'.repeat(64);
const FP1 = 'b'.repeat(64);
const arn = (fp: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${fp}`;
const meta = { $metadata: {} };
const notFound = () => new ResourceNotFoundException({ message: 'not found', ...meta });

function device(overrides: Partial<Device> = {}): Device {
  return {
    id: 'cam.01',
    tags: [],
    status: 'NO_IDENTITY',
    icon: 'chip',
    icon_color: '#000000',
    creation_timestamp: '2026-03-15T10:00:00.000Z',
    metadata: { firmware_version: '1.4.2', location: 'Building A/Floor 3' },
    dms_owner: 'dms-factory-1',
    slots: {},
    events: {},
    version: 1,
    ...overrides,
  };
}
const identity = (status: Slot['status'], version = 0): Slot => ({
  status,
  active_version: version,
  type: 'x509',
  secrets: { [String(version)]: 'abc' },
  expiration_date: '2027-01-01T00:00:00.000Z',
  events: {},
});
const stored = (version: number, fingerprint: string): SlotVersion => ({
  device_id: 'cam.01',
  slot: 'identity',
  version,
  type: 'x509',
  status: 'ACTIVE',
  created_at: '2026-03-15T10:00:00.000Z',
  certificate: {
    pem: '',
    serial_number: 'abc',
    issuer: '',
    subject: '',
    not_before: '',
    not_after: '',
    sha256_fingerprint: fingerprint,
    public_key_sha256: '',
  },
});

let sleeps: number[];
function setup(
  current: Device | undefined,
  settings: Partial<IotSyncSettings> = {},
  versions: SlotVersion[] = [stored(0, FP0), stored(1, FP1)],
) {
  sleeps = [];
  const registry = iotRegistry({
    client: new IoTClient({ region: REGION }),
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
    retry: { attempts: 4, baseMs: 50, capMs: 1000 },
  });
  return iotSync({
    devices: {
      get: async (id) => (current && current.id === id ? current : undefined),
      getSlotVersion: async (_id, slot, version) => versions.find((v) => v.slot === slot && v.version === version),
    },
    iot: registry,
    settings: {
      partition: 'aws',
      region: REGION,
      accountId: ACCOUNT,
      metadataKeys: ['firmware_version', 'location'],
      thingTypeName: 'device-manager',
      maxAttributes: 50,
      decommissionCertificateStatus: 'INACTIVE',
      ...settings,
    },
  });
}

const inputs = <T extends object>(command: new (input: T) => unknown) =>
  iot.commandCalls(command as never).map((c) => (c.args[0] as { input: T }).input);

beforeEach(() => {
  iot.reset();
  iot.on(AttachThingPrincipalCommand).resolves({});
  iot.on(DetachThingPrincipalCommand).resolves({});
  iot.on(UpdateCertificateCommand).resolves({});
  iot.on(UpdateThingCommand).resolves({});
  iot.on(CreateThingCommand).resolves({ thingName: 'cam_01' });
});

describe('attribute rules', () => {
  it('maps the device id to a thing name', () => {
    expect(thingNameOf('cam.01.eu')).toBe('cam_01_eu');
    expect(thingNameOf('aa:bb:cc-1_2')).toBe('aa:bb:cc-1_2');
  });

  it('sanitises values to the characters AWS IoT allows and cuts them at 800', () => {
    expect(attributeValueOf('Building A/Floor 3 (east)')).toBe('Building_A/Floor_3__east_');
    expect(attributeValueOf(42)).toBe('42');
    expect(attributeValueOf(true)).toBe('true');
    expect(attributeValueOf({ a: [1, 2] })).toBe('__a_:[1,2]_'); // {"a":[1,2]}
    expect(attributeValueOf('x'.repeat(900))).toHaveLength(800);
    expect(attributeValueOf('é=ü,[ok]@#:')).toBe('_=_,[ok]@#:');
    expect(attributeValueOf(null)).toBeUndefined();
    expect(attributeValueOf('')).toBeUndefined();
  });

  it('takes status, dms_owner and the configured metadata keys (dotted paths too), up to the attribute limit', () => {
    const d = device({ metadata: { a: '1', b: { c: 'deep' }, d: null } });
    expect(thingAttributesOf(d, ['a', 'b.c', 'd', 'missing'], 50)).toEqual({
      status: 'NO_IDENTITY',
      dms_owner: 'dms-factory-1',
      a: '1',
      'b.c': 'deep',
    });
    // Untyped things: 3 attributes.
    expect(thingAttributesOf(d, ['a', 'b.c'], 3)).toEqual({
      status: 'NO_IDENTITY',
      dms_owner: 'dms-factory-1',
      a: '1',
    });
    // `status` and `dms_owner` are the sync's own: a metadata key cannot take them over.
    expect(thingAttributesOf(device({ metadata: { status: 'x' } }), ['status'], 50)).toEqual({
      status: 'NO_IDENTITY',
      dms_owner: 'dms-factory-1',
    });
  });
});

describe('syncing a device', () => {
  it('creates the thing with its type and attributes; no certificate call without an identity', async () => {
    iot.on(DescribeThingCommand).rejects(notFound());
    const report = await setup(device()).syncDevice('cam.01');
    expect(inputs(CreateThingCommand)).toEqual([
      {
        thingName: 'cam_01',
        thingTypeName: 'device-manager',
        attributePayload: {
          attributes: {
            status: 'NO_IDENTITY',
            dms_owner: 'dms-factory-1',
            firmware_version: '1.4.2',
            location: 'Building_A/Floor_3',
          },
        },
      },
    ]);
    expect(inputs(DescribeCertificateCommand)).toEqual([]);
    expect(report).toEqual({
      deviceId: 'cam.01',
      thingName: 'cam_01',
      thing: 'created',
      certificate: 'none',
      detached: [],
    });
  });

  it('updates only the changed attributes (merge; a dropped metadata key is removed) at the version read', async () => {
    iot.on(DescribeThingCommand).resolves({
      thingName: 'cam_01',
      version: 3,
      thingTypeName: 'device-manager',
      attributes: {
        status: 'NO_IDENTITY',
        dms_owner: 'dms-factory-1',
        firmware_version: '1.0',
        location: 'x',
        other: 'kept',
      },
    });
    const d = device({ metadata: { firmware_version: '1.4.2' } });
    const report = await setup(d).syncDevice('cam.01');
    expect(inputs(UpdateThingCommand)).toEqual([
      {
        thingName: 'cam_01',
        thingTypeName: 'device-manager',
        attributePayload: { attributes: { firmware_version: '1.4.2', location: '' }, merge: true },
        expectedVersion: 3,
      },
    ]);
    expect(report.thing).toBe('updated');
  });

  it('leaves an up-to-date thing alone', async () => {
    iot.on(DescribeThingCommand).resolves({
      thingName: 'cam_01',
      version: 3,
      thingTypeName: 'device-manager',
      attributes: {
        status: 'NO_IDENTITY',
        dms_owner: 'dms-factory-1',
        firmware_version: '1.4.2',
        location: 'Building_A/Floor_3',
      },
    });
    expect((await setup(device()).syncDevice('cam.01')).thing).toBe('unchanged');
    expect(inputs(UpdateThingCommand)).toEqual([]);
    expect(inputs(CreateThingCommand)).toEqual([]);
  });

  it('attaches the registered identity certificate (id = SHA-256 of the DER) as the principal', async () => {
    iot.on(DescribeThingCommand).rejects(notFound());
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateId: FP0, status: 'ACTIVE' } });
    const report = await setup(device({ status: 'ACTIVE', identity: identity('ACTIVE') })).syncDevice('cam.01');
    expect(inputs(CreateThingCommand)[0]!.attributePayload!.attributes!.status).toBe('ACTIVE');
    expect(inputs(DescribeCertificateCommand)).toEqual([{ certificateId: FP0 }]);
    expect(inputs(AttachThingPrincipalCommand)).toEqual([{ thingName: 'cam_01', principal: arn(FP0) }]);
    expect(report.certificate).toBe('attached');
  });

  it("names the certificate in the function's partition (GovCloud, China)", async () => {
    iot.on(DescribeThingCommand).rejects(notFound());
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateId: FP0, status: 'ACTIVE' } });
    await setup(device({ status: 'ACTIVE', identity: identity('ACTIVE') }), { partition: 'aws-cn' }).syncDevice(
      'cam.01',
    );
    expect(inputs(AttachThingPrincipalCommand)).toEqual([
      { thingName: 'cam_01', principal: `arn:aws-cn:iot:${REGION}:${ACCOUNT}:cert/${FP0}` },
    ]);
  });

  it('skips the attachment when the certificate is not registered in AWS IoT', async () => {
    iot.on(DescribeThingCommand).rejects(notFound());
    iot.on(DescribeCertificateCommand).rejects(notFound());
    const report = await setup(device({ status: 'ACTIVE', identity: identity('ACTIVE') })).syncDevice('cam.01');
    expect(inputs(AttachThingPrincipalCommand)).toEqual([]);
    expect(report.certificate).toBe('not-registered');
  });

  it('revokes the certificate in AWS IoT when the identity is revoked, once', async () => {
    iot.on(DescribeThingCommand).resolves({
      thingName: 'cam_01',
      version: 7,
      thingTypeName: 'device-manager',
      attributes: { status: 'ACTIVE', dms_owner: 'dms-factory-1' },
    });
    iot
      .on(DescribeCertificateCommand)
      .resolvesOnce({ certificateDescription: { status: 'ACTIVE' } })
      .resolves({ certificateDescription: { status: 'REVOKED' } });
    const sync = setup(device({ status: 'REVOKED', identity: identity('REVOKED'), metadata: {} }));
    expect((await sync.syncDevice('cam.01')).certificate).toBe('revoked');
    expect(inputs(UpdateCertificateCommand)).toEqual([{ certificateId: FP0, newStatus: 'REVOKED' }]);
    expect(inputs(UpdateThingCommand)).toEqual([
      {
        thingName: 'cam_01',
        thingTypeName: 'device-manager',
        attributePayload: { attributes: { status: 'REVOKED' }, merge: true },
        expectedVersion: 7,
      },
    ]);
    // Again (a redelivery): the certificate is REVOKED already, nothing is sent.
    await sync.syncDevice('cam.01');
    expect(inputs(UpdateCertificateCommand)).toHaveLength(1);
    expect(inputs(AttachThingPrincipalCommand)).toEqual([]);
  });

  it('decommission: certificate INACTIVE, principal detached, thing kept with status DECOMMISSIONED', async () => {
    iot.on(DescribeThingCommand).resolves({
      thingName: 'cam_01',
      version: 9,
      thingTypeName: 'device-manager',
      attributes: { status: 'ACTIVE', dms_owner: 'dms-factory-1' },
    });
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: 'ACTIVE' } });
    const report = await setup(
      device({ status: 'DECOMMISSIONED', identity: identity('REVOKED'), metadata: {} }),
    ).syncDevice('cam.01');
    expect(inputs(UpdateThingCommand)[0]!.attributePayload).toEqual({
      attributes: { status: 'DECOMMISSIONED' },
      merge: true,
    });
    expect(inputs(UpdateCertificateCommand)).toEqual([{ certificateId: FP0, newStatus: 'INACTIVE' }]);
    expect(inputs(DetachThingPrincipalCommand)).toEqual([{ thingName: 'cam_01', principal: arn(FP0) }]);
    expect(report).toMatchObject({ certificate: 'decommissioned', detached: [arn(FP0)] });
    expect(iot.commandCalls(CreateThingCommand)).toHaveLength(0);
  });

  it('decommission with REVOKED configured; a certificate revoked already is left as it is', async () => {
    iot.on(DescribeThingCommand).resolves({
      thingName: 'cam_01',
      version: 9,
      thingTypeName: 'device-manager',
      attributes: { status: 'DECOMMISSIONED', dms_owner: 'dms-factory-1' },
    });
    iot
      .on(DescribeCertificateCommand)
      .resolvesOnce({ certificateDescription: { status: 'ACTIVE' } })
      .resolves({ certificateDescription: { status: 'REVOKED' } });
    const sync = setup(device({ status: 'DECOMMISSIONED', identity: identity('REVOKED'), metadata: {} }), {
      decommissionCertificateStatus: 'REVOKED',
    });
    await sync.syncDevice('cam.01');
    expect(inputs(UpdateCertificateCommand)).toEqual([{ certificateId: FP0, newStatus: 'REVOKED' }]);
    await sync.syncDevice('cam.01');
    expect(inputs(UpdateCertificateCommand)).toHaveLength(1);
    expect(inputs(DetachThingPrincipalCommand)).toHaveLength(2); // detaching a detached principal is harmless
  });

  it('treats ResourceAlreadyExists on create as success: reads the thing and updates it', async () => {
    iot
      .on(DescribeThingCommand)
      .rejectsOnce(notFound())
      .resolves({ thingName: 'cam_01', version: 1, attributes: { status: 'OLD' } });
    iot
      .on(CreateThingCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', resourceId: 'x', resourceArn: 'y', ...meta }));
    const report = await setup(device({ metadata: {} })).syncDevice('cam.01');
    expect(inputs(DescribeThingCommand)).toEqual([{ thingName: 'cam_01' }, { thingName: 'cam_01' }]);
    // The existing thing also gets the thing type.
    expect(inputs(UpdateThingCommand)).toEqual([
      {
        thingName: 'cam_01',
        thingTypeName: 'device-manager',
        attributePayload: { attributes: { status: 'NO_IDENTITY', dms_owner: 'dms-factory-1' }, merge: true },
        expectedVersion: 1,
      },
    ]);
    expect(report.thing).toBe('updated');
  });

  it('retries a throttled call with backoff, then succeeds', async () => {
    iot
      .on(DescribeThingCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', ...meta }))
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', ...meta }))
      .rejects(notFound());
    iot
      .on(CreateThingCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', ...meta }))
      .resolves({});
    const report = await setup(device({ metadata: {} })).syncDevice('cam.01');
    expect(inputs(DescribeThingCommand)).toHaveLength(3);
    expect(inputs(CreateThingCommand)).toHaveLength(2);
    expect(sleeps).toEqual([50, 100, 50]);
    expect(report.thing).toBe('created');
  });

  it('gives up after the bounded retries (the message is then delivered again by SQS)', async () => {
    iot.on(DescribeThingCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', ...meta }));
    await expect(setup(device()).syncDevice('cam.01')).rejects.toThrow('Rate exceeded');
    expect(inputs(DescribeThingCommand)).toHaveLength(4);
  });

  it('re-reads the thing after a version conflict and re-applies the change at the new version', async () => {
    iot
      .on(DescribeThingCommand)
      .resolvesOnce({
        thingName: 'cam_01',
        version: 3,
        thingTypeName: 'device-manager',
        attributes: { status: 'NO_IDENTITY', dms_owner: 'old' },
      })
      .resolves({
        thingName: 'cam_01',
        version: 4,
        thingTypeName: 'device-manager',
        attributes: { status: 'NO_IDENTITY', dms_owner: 'older', firmware_version: '1.4.2' },
      });
    iot
      .on(UpdateThingCommand)
      .rejectsOnce(new VersionConflictException({ message: 'conflict', ...meta }))
      .resolves({});
    const report = await setup(device({ metadata: { firmware_version: '1.4.2' } })).syncDevice('cam.01');
    expect(inputs(UpdateThingCommand)).toEqual([
      {
        thingName: 'cam_01',
        thingTypeName: 'device-manager',
        attributePayload: { attributes: { dms_owner: 'dms-factory-1', firmware_version: '1.4.2' }, merge: true },
        expectedVersion: 3,
      },
      {
        thingName: 'cam_01',
        thingTypeName: 'device-manager',
        attributePayload: { attributes: { dms_owner: 'dms-factory-1' }, merge: true },
        expectedVersion: 4,
      },
    ]);
    expect(report.thing).toBe('updated');
  });

  it('detaches the superseded identity certificate and attaches the new one after a re-provision', async () => {
    iot.on(DescribeThingCommand).resolves({
      thingName: 'cam_01',
      version: 2,
      thingTypeName: 'device-manager',
      attributes: { status: 'ACTIVE', dms_owner: 'dms-factory-1' },
    });
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: 'ACTIVE' } });
    const report = await setup(device({ status: 'ACTIVE', identity: identity('ACTIVE', 1), metadata: {} })).syncDevice(
      'cam.01',
      { supersededIdentityVersions: [0] },
    );
    expect(inputs(DetachThingPrincipalCommand)).toEqual([{ thingName: 'cam_01', principal: arn(FP0) }]);
    expect(inputs(AttachThingPrincipalCommand)).toEqual([{ thingName: 'cam_01', principal: arn(FP1) }]);
    expect(report.detached).toEqual([arn(FP0)]);
  });

  it('untyped things (no thing type configured) carry 3 attributes and no thingTypeName', async () => {
    iot.on(DescribeThingCommand).rejects(notFound());
    await setup(device(), { thingTypeName: undefined, maxAttributes: 3 }).syncDevice('cam.01');
    expect(inputs(CreateThingCommand)).toEqual([
      {
        thingName: 'cam_01',
        attributePayload: {
          attributes: { status: 'NO_IDENTITY', dms_owner: 'dms-factory-1', firmware_version: '1.4.2' },
        },
      },
    ]);
  });

  it('acknowledges an unknown device without calling AWS IoT', async () => {
    expect((await setup(undefined).syncDevice('ghost')).thing).toBe('device-not-found');
    expect(iot.calls()).toHaveLength(0);
  });
});
