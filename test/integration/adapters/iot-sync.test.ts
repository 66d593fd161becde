/**
 * The IoT sync over the real device repository and sync-state store (embedded engine), AWS IoT faked
 * at the SDK boundary with a small stateful registry: the calls a sync makes are only those whose
 * effect is not already in place, a superseded certificate is found from the state alone, and a
 * failure is recorded and retried.
 */
import { randomUUID } from 'node:crypto';
import { AttachThingPrincipalCommand, InvalidRequestException, IoTClient } from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { iotSyncStateStore } from '../../../functions/adapters/dynamodb/iot-sync-state';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { iotRegistry } from '../../../functions/adapters/iot/iot-registry';
import { deviceService } from '../../../functions/app/devices';
import { iotSync } from '../../../functions/app/iot-sync';
import { parseCertificate } from '../../../functions/domain/certificate';
import { IDENTITY_SLOT } from '../../../functions/domain/slots';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { fakeIotRegistry } from '../../support/iot-registry';
import { freshTable, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const arn = (fp: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${fp}`;
const meta = { $metadata: {} };
const iot = mockClient(IoTClient);

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

let seen = 0;
/** The stateful registry (test/support/iot-registry.ts), with the calls looked at so far forgotten. */
function fakeRegistry(certificates: Map<string, string>) {
  seen = 0;
  return fakeIotRegistry(iot, certificates).things;
}

/** The commands sent since the last look, by name, with their input. */
function sent(): { command: string; input: Record<string, unknown> }[] {
  const calls = iot
    .calls()
    .slice(seen)
    .map((c) => {
      const command = c.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
      return { command: command.constructor.name.replace(/Command$/, ''), input: command.input };
    });
  seen += calls.length;
  return calls;
}

function setup(table: TestTable) {
  const clock = testClock();
  const bookmarks = bookmarkCodec('k');
  const repository = deviceRepository({
    client: table.documentClient,
    tableName: table.tableName,
    listShards: 2,
    statsShards: 2,
    bookmarks,
  });
  const policies = policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const states = iotSyncStateStore({ client: table.documentClient, tableName: table.tableName });
  const sync = iotSync({
    devices: repository,
    iot: iotRegistry({ client: new IoTClient({ region: REGION }), sleep: async () => undefined }),
    states,
    now: () => clock.now(),
    settings: {
      partition: 'aws',
      region: REGION,
      accountId: ACCOUNT,
      metadataKeys: ['model'],
      thingTypeName: 'dm-test',
      maxAttributes: 50,
      decommissionCertificateStatus: 'INACTIVE',
      certificateRegistration: 'without-ca',
    },
  });
  return { devices, states, sync };
}

const fingerprintOf = (pem: string) => parseCertificate(pem).sha256_fingerprint;

it('calls AWS IoT only for what changed; a re-provision deactivates the old certificate by the state', async () => {
  const table = await freshTable(engine);
  const { devices, states, sync } = setup(table);
  const certificates = new Map<string, string>();
  fakeRegistry(certificates);
  const first = await certificate({ notAfter: '2027-03-15T10:00:00Z' });
  const a = fingerprintOf(first.pem);
  certificates.set(a, 'ACTIVE');
  await devices.register({ id: 'cam.01', dms_id: 'dms-1', metadata: { model: 'x1' } });
  await devices.bind('cam.01', IDENTITY_SLOT, { type: 'x509', certificate: parseCertificate(first.pem) });

  await sync.syncDevice('cam.01');
  expect(sent().map((c) => c.command)).toEqual([
    'DescribeThing',
    'CreateThing',
    'DescribeCertificate',
    'AttachThingPrincipal',
  ]);
  const device = (await devices.get('cam.01'))!;
  expect(await states.get('cam.01')).toEqual({
    device_version: device.version,
    thing_name: 'cam_01',
    thing_arn: `arn:aws:iot:${REGION}:${ACCOUNT}:thing/cam_01`,
    attributes_digest: expect.any(String),
    certificate_id: a,
    certificate_arn: arn(a),
    certificate_status: 'ACTIVE',
    attached: true,
    last_sync: '2026-03-15T10:00:00.000Z',
  });

  // A redelivery, then a change IoT does not carry (a metadata key that is not synced): no call at all.
  expect(await sync.syncDevice('cam.01')).toMatchObject({ thing: 'unchanged', certificate: 'unchanged' });
  await devices.patch('cam.01', 'application/merge-patch+json', { metadata: { note: 'n' } });
  expect(await sync.syncDevice('cam.01')).toMatchObject({ thing: 'unchanged', certificate: 'unchanged' });
  expect(sent()).toEqual([]);

  // A synced key changed: the thing only.
  await devices.patch('cam.01', 'application/merge-patch+json', { metadata: { model: 'x2' } });
  await sync.syncDevice('cam.01');
  expect(sent().map((c) => c.command)).toEqual(['DescribeThing', 'UpdateThing']);

  // Re-provisioned with a new key, the event lost (no hint): the state names the old certificate.
  const second = await certificate({ notAfter: '2027-06-15T10:00:00Z' });
  const b = fingerprintOf(second.pem);
  certificates.set(b, 'ACTIVE');
  await devices.bind('cam.01', IDENTITY_SLOT, { type: 'x509', certificate: parseCertificate(second.pem) });
  await sync.syncDevice('cam.01');
  expect(sent()).toEqual([
    { command: 'DescribeCertificate', input: { certificateId: a } },
    { command: 'UpdateCertificate', input: { certificateId: a, newStatus: 'INACTIVE' } },
    { command: 'DetachThingPrincipal', input: { thingName: 'cam_01', principal: arn(a) } },
    { command: 'DescribeCertificate', input: { certificateId: b } },
    { command: 'AttachThingPrincipal', input: { thingName: 'cam_01', principal: arn(b) } },
  ]);
  expect(certificates.get(a)).toBe('INACTIVE');
  expect(await states.get('cam.01')).toMatchObject({ certificate_id: b, attached: true });
});

it('records a failure (the state version stays, so the next sync retries) and clears it on success', async () => {
  const table = await freshTable(engine);
  const { devices, states, sync } = setup(table);
  const certificates = new Map<string, string>();
  fakeRegistry(certificates);
  const { pem } = await certificate({ notAfter: '2027-03-15T10:00:00Z' });
  certificates.set(fingerprintOf(pem), 'ACTIVE');
  await devices.register({ id: 'cam.02', dms_id: 'dms-1' });
  await devices.bind('cam.02', IDENTITY_SLOT, { type: 'x509', certificate: parseCertificate(pem) });
  iot
    .on(AttachThingPrincipalCommand)
    .rejectsOnce(new InvalidRequestException({ message: 'no such thing', ...meta }))
    .resolves({});

  await expect(sync.syncDevice('cam.02')).rejects.toThrow('no such thing');
  expect(await states.get('cam.02')).toMatchObject({
    device_version: 0,
    last_error: 'InvalidRequestException: no such thing',
  });
  sent();
  await sync.syncDevice('cam.02');
  expect(sent().map((c) => c.command)).toEqual(['DescribeThing', 'DescribeCertificate', 'AttachThingPrincipal']);
  const state = await states.get('cam.02');
  expect(state?.last_error).toBeUndefined();
  expect(state?.device_version).toBe((await devices.get('cam.02'))!.version);
});

it('a late sync never rolls the stored state back to an older device version', async () => {
  const table = await freshTable(engine);
  const { states } = setup(table);
  const state = {
    thing_name: 'cam_03',
    thing_arn: 'arn',
    attributes_digest: 'd',
    last_sync: '2026-03-15T10:00:00.000Z',
  };
  await states.put('cam.03', { ...state, device_version: 5 });
  await states.put('cam.03', { ...state, device_version: 4, attributes_digest: 'older' });
  expect(await states.get('cam.03')).toMatchObject({ device_version: 5, attributes_digest: 'd' });
  await states.put('cam.03', { ...state, device_version: 6, attributes_digest: 'newer' });
  expect(await states.get('cam.03')).toMatchObject({ device_version: 6, attributes_digest: 'newer' });
});
