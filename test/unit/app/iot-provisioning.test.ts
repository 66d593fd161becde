/**
 * Per-DMS AWS IoT provisioning (docs/iot-provisioning.md) through the sync, with the real IoT adapters on
 * a mocked IoTClient: policies and thing groups created when missing, a new default policy version when
 * the document changes (room made at AWS IoT's five versions), things moved between DMS groups, policies
 * attached to the certificate and taken off the one it replaced, the registration mode, JITP templates.
 */
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateProvisioningTemplateCommand,
  CreateProvisioningTemplateVersionCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeletePolicyVersionCommand,
  DescribeCertificateCommand,
  DescribeProvisioningTemplateCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetPolicyCommand,
  IoTClient,
  ListPolicyVersionsCommand,
  RegisterCertificateWithoutCACommand,
  RemoveThingFromThingGroupCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  UpdateThingCommand,
  VersionsLimitExceededException,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { iotSync } from '../../../functions/app/iot-sync';
import { canonicalJson, iotProvisioning as provisioningOf } from '../../../functions/app/iot-provisioning';
import type { IotSyncState } from '../../../functions/app/ports';
import { iotProvisioning } from '../../../functions/adapters/iot/iot-provisioning';
import { iotRegistry } from '../../../functions/adapters/iot/iot-registry';
import { dmsOf } from '../../../functions/handlers/events/iot-sync';
import type { Device } from '../../../functions/domain/device';
import { type DmsIotSettings, dmsIotSettingsOf } from '../../../functions/domain/dms-iot';
import type { SlotVersion } from '../../../functions/domain/slots';

const iot = mockClient(IoTClient);
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const FP0 = 'a'.repeat(64);
const FP1 = 'b'.repeat(64);
const ROLE = `arn:aws:iam::${ACCOUNT}:role/jitp`;
const arn = (fp: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${fp}`;
const meta = { $metadata: {} };
const notFound = () => new ResourceNotFoundException({ message: 'not found', ...meta });
const connect = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] };
const publish = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: '*' }] };

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const version = (n: number, fingerprint: string): SlotVersion => ({
  device_id: 'cam.01',
  slot: 'identity',
  version: n,
  type: 'x509',
  status: 'ACTIVE',
  created_at: '2026-03-15T10:00:00.000Z',
  certificate: {
    pem,
    serial_number: 'abc',
    issuer: '',
    subject: '',
    not_before: '',
    not_after: '',
    sha256_fingerprint: fingerprint,
    public_key_sha256: '',
  },
});

function device(overrides: Partial<Device> = {}): Device {
  return {
    id: 'cam.01',
    tags: [],
    status: 'ACTIVE',
    icon: 'chip',
    icon_color: '#000000',
    creation_timestamp: '2026-03-15T10:00:00.000Z',
    metadata: {},
    dms_owner: 'dms-a',
    identity: {
      status: 'ACTIVE',
      active_version: 0,
      type: 'x509',
      secrets: { '0': 'abc' },
      expiration_date: '2027-01-01T00:00:00.000Z',
      events: {},
    },
    slots: {},
    events: {},
    version: 1,
    ...overrides,
  };
}

/** One fleet: the stored device, the DMS settings, the sync states; a sync wired as the composition wires it. */
function world(settings: Record<string, DmsIotSettings>, options: { role?: string } = { role: ROLE }) {
  const w = {
    device: device(),
    settings,
    states: new Map<string, IotSyncState>(),
    reads: 0,
  };
  const log = () => undefined;
  const client = new IoTClient({ region: REGION });
  const provisioning = provisioningOf({
    iot: iotProvisioning({ client, log }),
    dmsSettings: async (dms) => {
      w.reads++;
      return w.settings[dms];
    },
    // Every sync reads the settings: the test changes them between syncs.
    settingsTtlMs: 0,
    ...(options.role ? { provisioningRoleArn: options.role } : {}),
  });
  const sync = iotSync({
    devices: {
      get: async (id) => (id === w.device.id ? w.device : undefined),
      getSlotVersion: async (_id, _slot, n) => [version(0, FP0), version(1, FP1)][n],
    },
    iot: iotRegistry({ client, log }),
    states: {
      get: async (id) => w.states.get(id),
      put: async (id, state) => void w.states.set(id, state),
    },
    provisioning,
    settings: {
      partition: 'aws',
      region: REGION,
      accountId: ACCOUNT,
      metadataKeys: [],
      maxAttributes: 3,
      decommissionCertificateStatus: 'INACTIVE',
      certificateRegistration: 'without-ca',
    },
  });
  return { w, sync, provisioning };
}

const inputs = <T extends object>(command: new (input: T) => unknown) =>
  iot.commandCalls(command as never).map((c) => (c.args[0] as { input: T }).input);
const calls = () => iot.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

beforeEach(() => {
  iot.reset();
  iot.on(DescribeThingCommand).rejects(notFound());
  iot.on(CreateThingCommand).resolves({ thingName: 'cam_01' });
  iot.on(UpdateThingCommand).resolves({});
  iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: 'ACTIVE' } });
  iot.on(AttachThingPrincipalCommand).resolves({});
  iot.on(DetachThingPrincipalCommand).resolves({});
  iot.on(UpdateCertificateCommand).resolves({});
  iot.on(GetPolicyCommand).rejects(notFound());
  iot.on(CreatePolicyCommand).resolves({});
  iot.on(CreatePolicyVersionCommand).resolves({});
  iot.on(AttachPolicyCommand).resolves({});
  iot.on(DetachPolicyCommand).resolves({});
  iot.on(DescribeThingGroupCommand).rejects(notFound());
  iot.on(CreateThingGroupCommand).resolves({});
  iot.on(AddThingToThingGroupCommand).resolves({});
  iot.on(RemoveThingFromThingGroupCommand).resolves({});
  iot.on(DescribeProvisioningTemplateCommand).rejects(notFound());
  iot.on(CreateProvisioningTemplateCommand).resolves({});
  iot.on(CreateProvisioningTemplateVersionCommand).resolves({});
});

describe('per-DMS AWS IoT provisioning', () => {
  it('creates the DMS policy and group, puts the thing in it, attaches the policy to the certificate', async () => {
    const { w, sync } = world({
      'dms-a': dmsIotSettingsOf({ policies: [{ name: 'connect', document: connect }], thing_groups: ['factory-a'] }),
    });
    await sync.syncDevice('cam.01');
    expect(inputs(CreatePolicyCommand)).toEqual([{ policyName: 'connect', policyDocument: JSON.stringify(connect) }]);
    expect(inputs(CreateThingGroupCommand)).toEqual([{ thingGroupName: 'factory-a' }]);
    expect(inputs(AddThingToThingGroupCommand)).toEqual([{ thingGroupName: 'factory-a', thingName: 'cam_01' }]);
    expect(inputs(AttachPolicyCommand)).toEqual([{ policyName: 'connect', target: arn(FP0) }]);
    expect(w.states.get('cam.01')).toMatchObject({ thing_groups: ['factory-a'], policies: ['connect'] });

    // A redelivery: nothing to do, no AWS IoT call.
    iot.resetHistory();
    await sync.syncDevice('cam.01');
    expect(calls()).toEqual([]);
  });

  it('a changed document becomes the default version; at five versions the oldest other one goes first', async () => {
    const { w, sync } = world({ 'dms-a': dmsIotSettingsOf({ policies: [{ name: 'connect', document: connect }] }) });
    await sync.syncDevice('cam.01');
    w.settings['dms-a'] = dmsIotSettingsOf({ policies: [{ name: 'connect', document: publish }] });
    iot.reset();
    // AWS IoT holds the old document.
    iot
      .on(GetPolicyCommand)
      .resolves({ policyDocument: JSON.stringify({ Statement: connect.Statement, Version: '2012-10-17' }) });
    iot
      .on(CreatePolicyVersionCommand)
      .rejectsOnce(new VersionsLimitExceededException({ message: 'five', ...meta }))
      .resolves({});
    iot.on(ListPolicyVersionsCommand).resolves({
      policyVersions: [
        { versionId: '5', isDefaultVersion: true, createDate: new Date('2026-05-01') },
        { versionId: '2', isDefaultVersion: false, createDate: new Date('2026-02-01') },
        { versionId: '1', isDefaultVersion: false, createDate: new Date('2026-01-01') },
      ],
    });
    iot.on(DeletePolicyVersionCommand).resolves({});
    // The device did not change, but its DMS's settings did: it is synced again.
    await sync.syncDevice('cam.01');
    expect(inputs(DeletePolicyVersionCommand)).toEqual([{ policyName: 'connect', policyVersionId: '1' }]);
    expect(inputs(CreatePolicyVersionCommand)).toEqual([
      { policyName: 'connect', policyDocument: JSON.stringify(publish), setAsDefault: true },
      { policyName: 'connect', policyDocument: JSON.stringify(publish), setAsDefault: true },
    ]);
    // Same policy name: nothing attached or detached again.
    expect(inputs(AttachPolicyCommand)).toEqual([]);
    expect(inputs(DetachPolicyCommand)).toEqual([]);
  });

  it('leaves the groups and policies of the DMS a device left and takes those of its new DMS', async () => {
    const { w, sync } = world({
      'dms-a': dmsIotSettingsOf({ policies: [{ name: 'pa', document: connect }], thing_groups: ['ga'] }),
      'dms-b': dmsIotSettingsOf({ policies: [{ name: 'pb', document: connect }], thing_groups: ['gb'] }),
    });
    await sync.syncDevice('cam.01');
    iot.resetHistory();
    w.device = device({ dms_owner: 'dms-b', version: 2 });
    await sync.syncDevice('cam.01');
    expect(inputs(AddThingToThingGroupCommand)).toEqual([{ thingGroupName: 'gb', thingName: 'cam_01' }]);
    expect(inputs(RemoveThingFromThingGroupCommand)).toEqual([{ thingGroupName: 'ga', thingName: 'cam_01' }]);
    expect(inputs(AttachPolicyCommand)).toEqual([{ policyName: 'pb', target: arn(FP0) }]);
    expect(inputs(DetachPolicyCommand)).toEqual([{ policyName: 'pa', target: arn(FP0) }]);
  });

  it('moves the policies to a renewed certificate and takes everything off a decommissioned device', async () => {
    const { w, sync } = world({
      'dms-a': dmsIotSettingsOf({ policies: [{ name: 'pa', document: connect }], thing_groups: ['ga'] }),
    });
    await sync.syncDevice('cam.01');
    iot.resetHistory();
    w.device = device({ version: 2, identity: { ...w.device.identity!, active_version: 1 } });
    await sync.syncDevice('cam.01');
    expect(inputs(DetachPolicyCommand)).toEqual([{ policyName: 'pa', target: arn(FP0) }]);
    expect(inputs(AttachPolicyCommand)).toEqual([{ policyName: 'pa', target: arn(FP1) }]);
    expect(inputs(AddThingToThingGroupCommand)).toEqual([]);

    iot.resetHistory();
    w.device = device({ version: 3, status: 'DECOMMISSIONED', identity: { ...w.device.identity!, active_version: 1 } });
    await sync.syncDevice('cam.01');
    expect(inputs(DetachPolicyCommand)).toEqual([{ policyName: 'pa', target: arn(FP1) }]);
    expect(inputs(RemoveThingFromThingGroupCommand)).toEqual([{ thingGroupName: 'ga', thingName: 'cam_01' }]);
    expect(w.states.get('cam.01')).toMatchObject({ thing_groups: [], policies: [] });
  });

  it.each(['none', 'jitp'] as const)('registration %s: the sync never registers the certificate', async (mode) => {
    iot.on(DescribeCertificateCommand).rejects(notFound());
    iot.on(RegisterCertificateWithoutCACommand).resolves({ certificateId: FP0 });
    const template = { name: 'jitp-a', body: { Resources: { thing: { Type: 'AWS::IoT::Thing' } } } };
    const { w, sync } = world({
      'dms-a': dmsIotSettingsOf({
        registration: mode,
        policies: [{ name: 'pa', document: connect }],
        ...(mode === 'jitp' ? { provisioning_template: template } : {}),
      }),
    });
    const report = await sync.syncDevice('cam.01');
    expect(report.certificate).toBe('not-registered');
    expect(inputs(RegisterCertificateWithoutCACommand)).toEqual([]);
    // No certificate in AWS IoT yet: nothing to attach the policy to.
    expect(inputs(AttachPolicyCommand)).toEqual([]);
    expect(w.states.get('cam.01')?.policies).toEqual([]);
  });

  it('creates the JITP template with the provisioning role, a new default version when its body changes', async () => {
    const body = { Parameters: {}, Resources: { thing: { Type: 'AWS::IoT::Thing' } } };
    const settings = dmsIotSettingsOf({ registration: 'jitp', provisioning_template: { name: 'jitp-a', body } });
    const { w, provisioning } = world({ 'dms-a': settings });
    expect(await provisioning.syncDms('dms-a')).toMatchObject({ template: 'created' });
    expect(inputs(CreateProvisioningTemplateCommand)).toEqual([
      {
        templateName: 'jitp-a',
        templateBody: JSON.stringify(body),
        provisioningRoleArn: ROLE,
        enabled: true,
        type: 'JITP',
      },
    ]);
    iot
      .on(DescribeProvisioningTemplateCommand)
      .resolves({ templateBody: JSON.stringify(body), provisioningRoleArn: ROLE });
    expect(await provisioning.syncDms('dms-a')).toMatchObject({ template: 'unchanged' });
    const changed = { ...body, Parameters: { 'AWS::IoT::Certificate::CommonName': { Type: 'String' } } };
    w.settings['dms-a'] = dmsIotSettingsOf({
      registration: 'jitp',
      provisioning_template: { name: 'jitp-a', body: changed },
    });
    expect(await provisioning.syncDms('dms-a')).toMatchObject({ template: 'updated' });
    expect(inputs(CreateProvisioningTemplateVersionCommand)).toEqual([
      { templateName: 'jitp-a', templateBody: JSON.stringify(changed), setAsDefault: true },
    ]);
    expect(await provisioning.syncDms('dms-none')).toBeUndefined();
  });

  it('creates no template without a provisioning role', async () => {
    const body = { Resources: {} };
    const { provisioning } = world(
      { 'dms-a': dmsIotSettingsOf({ registration: 'jitp', provisioning_template: { name: 't', body } }) },
      {},
    );
    expect(await provisioning.syncDms('dms-a')).toMatchObject({ template: 'no-role' });
    expect(inputs(CreateProvisioningTemplateCommand)).toEqual([]);
  });

  it('a device without DMS settings is synced as before: registered on bind, no policy, no group', async () => {
    iot
      .on(DescribeCertificateCommand)
      .rejectsOnce(notFound())
      .resolves({ certificateDescription: { status: 'ACTIVE' } });
    iot.on(RegisterCertificateWithoutCACommand).resolves({ certificateId: FP0 });
    const { w, sync } = world({});
    await sync.syncDevice('cam.01');
    expect(inputs(RegisterCertificateWithoutCACommand)).toHaveLength(1);
    expect(calls().filter((c) => /Policy|ThingGroup/.test(c))).toEqual([]);
    expect(w.states.get('cam.01')).toMatchObject({ thing_groups: [], policies: [] });
  });
});

describe('helpers', () => {
  it('compares JSON documents whatever their key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe(canonicalJson({ a: [{ c: 2, d: 1 }], b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });

  it('reads the DMS of a dms.update message, nothing of other messages', () => {
    const body = (type: string, subject: string) => JSON.stringify({ detail: { type, subject } });
    expect(dmsOf(body('dms.update', 'dms/dms-a'))).toBe('dms-a');
    expect(dmsOf(body('device.create', 'device/d1'))).toBeUndefined();
  });
});
