/**
 * `revoked-still-active-in-iot` on the real adapters and the embedded engine, AWS IoT faked at the SDK
 * boundary (a certificate status map): the change that retires an identity certificate opens the
 * finding in its own transaction (entry, counter, event), the IoT sync resolves it as a device change
 * once AWS IoT holds the certificate out of service, a failed AWS IoT call keeps it open until a retry
 * lands, a released hold resolves it in the release's transaction, and the re-evaluation walk keeps it.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { IoTClient, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import type { Engine } from '@device-manager/local-engine';
import { mockClient } from 'aws-sdk-client-mock';
import { iotSyncStateStore } from '../../../functions/adapters/dynamodb/iot-sync-state';
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { iotRegistry } from '../../../functions/adapters/iot/iot-registry';
import { iotSync } from '../../../functions/app/iot-sync';
import { parseCertificate } from '../../../functions/domain/certificate';
import { findingsOf } from '../../../functions/domain/findings';
import { DEFAULT_POSTURE_POLICY } from '../../../functions/domain/posture';
import { IOT_CHECK } from '../../../functions/domain/iot-findings';
import { certificate } from '../../support/certificates';
import { startCounters, startTestEngine } from '../../support/dynamo';
import { fakeIotRegistry } from '../../support/iot-registry';
import { postureStack } from '../../support/posture';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const iot = mockClient(IoTClient);

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

const updates = () =>
  iot.commandCalls(UpdateCertificateCommand).map((c) => ({ ...c.args[0].input }) as Record<string, unknown>);

async function setup({ iotSync: on = true } = {}) {
  const stack = await postureStack(engine, { iotSync: on });
  const { table, repository, service, clock, walk, policy } = stack;
  const counters = startCounters(table, 2);
  const sync = iotSync({
    devices: repository,
    iot: iotRegistry({ client: new IoTClient({ region: REGION }), sleep: async () => undefined }),
    states: iotSyncStateStore({ client: table.documentClient, tableName: table.tableName }),
    findings: service,
    now: () => clock.now(),
    settings: {
      partition: 'aws',
      region: REGION,
      accountId: ACCOUNT,
      metadataKeys: [],
      thingTypeName: 'dm-test',
      maxAttributes: 50,
      decommissionCertificateStatus: 'INACTIVE',
      certificateRegistration: 'none',
    },
  });
  await walk(); // the findings' first assessment (an empty fleet): ready
  const certificates = new Map<string, string>();
  const { control } = fakeIotRegistry(iot, certificates);
  /** A device bound to a fresh certificate that AWS IoT holds ACTIVE, synced once. */
  const bound = async (id: string) => {
    const { pem } = await certificate({ notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' });
    const parsed = parseCertificate(pem);
    certificates.set(parsed.sha256_fingerprint, 'ACTIVE');
    await service.register({ id, dms_id: 'dms-1' });
    await service.bind(id, 'identity', { type: 'x509', certificate: parsed });
    await sync.syncDevice(id);
    return { fingerprint: parsed.sha256_fingerprint, serial: parsed.serial_number };
  };
  const open = async (id: string) => findingsOf((await repository.get(id))!).filter((f) => f.check === IOT_CHECK);
  const listed = async () => (await policy.findings(IOT_CHECK, 25)).list.map((r) => r.device_id);
  const count = async () => {
    await counters.settle();
    return (await policy.openCounts()).checks.find((c) => c.check === IOT_CHECK)!.open;
  };
  const events = async () =>
    (await table.documentClient.send(new ScanCommand({ TableName: table.tableName })))
      .Items!.filter((i) => i.kind === 'outbox')
      .map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)))
      .filter((e) => e.data?.check === IOT_CHECK)
      .map((e) => `${e.type} ${e.data.device_id}`)
      .sort();
  return { ...stack, sync, certificates, control, bound, open, listed, count, events, counters };
}

it('opens in the revocation, stays open while AWS IoT refuses the update, resolves once it lands', async () => {
  const { service, repository, sync, certificates, control, bound, open, listed, count, events, counters } =
    await setup();
  const { fingerprint } = await bound('cam-1');
  const before = (await repository.get('cam-1'))!.version;
  expect(await open('cam-1')).toEqual([]);

  await service.revoke('cam-1', 'identity', 'KeyCompromise');
  // In the revocation's own transaction: one version, the finding, its entry, its counter and event.
  const revoked = (await repository.get('cam-1'))!;
  expect(revoked.version).toBe(before + 1);
  expect(await open('cam-1')).toEqual([
    {
      check: IOT_CHECK,
      slot: 'identity',
      since: expect.any(String),
      detail: 'identity certificate version 0 revoked in the registry, not yet disabled in AWS IoT',
    },
  ]);
  expect(await listed()).toEqual(['cam-1']);
  expect(await count()).toBe(1);
  expect(await events()).toEqual([`device.finding.open cam-1`]);

  // AWS IoT fails the update: the sync throws (SQS delivers again) and the finding stays.
  control.refuseUpdates = 1;
  await expect(sync.syncDevice('cam-1')).rejects.toThrow('refused');
  expect(certificates.get(fingerprint)).toBe('ACTIVE');
  expect(await open('cam-1')).toHaveLength(1);
  expect((await repository.get('cam-1'))!.version).toBe(before + 1);

  // The retry lands: AWS IoT revokes the certificate, then the finding resolves as a device change.
  expect(await sync.syncDevice('cam-1')).toMatchObject({ certificate: 'revoked', finding: 'resolved' });
  expect(updates().at(-1)).toEqual({ certificateId: fingerprint, newStatus: 'REVOKED' });
  expect(certificates.get(fingerprint)).toBe('REVOKED');
  expect(await open('cam-1')).toEqual([]);
  expect((await repository.get('cam-1'))!.version).toBe(before + 2);
  expect(await listed()).toEqual([]);
  expect(await count()).toBe(0);
  expect(await events()).toEqual([`device.finding.open cam-1`, `device.finding.resolve cam-1`]);

  // A redelivery: the state covers the resolution's version, so no AWS IoT call and no write.
  const calls = iot.calls().length;
  expect(await sync.syncDevice('cam-1')).toMatchObject({ certificate: 'unchanged' });
  expect(iot.calls()).toHaveLength(calls);
  expect((await repository.get('cam-1'))!.version).toBe(before + 2);
  await counters.stop();
});

it('a released hold resolves it in the release; a decommission opens it; the walk keeps it', async () => {
  const { service, repository, sync, certificates, bound, open, count, events, walk, policy, counters } = await setup();
  const held = await bound('cam-2');
  await bound('cam-3');

  await service.revoke('cam-2', 'identity', 'CertificateHold');
  expect(await open('cam-2')).toHaveLength(1);
  // Released before the sync ran: the same certificate is back in service, resolved in that transaction.
  await service.applyCertificateStatus(held.serial, 'ACTIVE');
  expect((await repository.get('cam-2'))!.identity!.status).not.toBe('REVOKED');
  expect(await open('cam-2')).toEqual([]);
  expect(certificates.get(held.fingerprint)).toBe('ACTIVE');

  await service.decommission('cam-3');
  expect((await open('cam-3')).map((f) => f.detail)).toEqual([
    'device decommissioned; identity certificate version 0 not yet disabled in AWS IoT',
  ]);
  // A policy change walks the fleet: the IoT finding is not the policy's, so it stays as it is.
  await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, min_rsa_bits: 3072 });
  await walk();
  expect(await open('cam-3')).toHaveLength(1);
  expect(await count()).toBe(1);

  const report = await sync.syncDevice('cam-3');
  expect(report).toMatchObject({ certificate: 'decommissioned', finding: 'resolved' });
  expect(await open('cam-3')).toEqual([]);
  expect(await count()).toBe(0);
  expect(await events()).toEqual([
    'device.finding.open cam-2',
    'device.finding.open cam-3',
    'device.finding.resolve cam-2',
    'device.finding.resolve cam-3',
  ]);
  expect((await repository.get('cam-2'))!.status).not.toBe('DECOMMISSIONED');
  await counters.stop();
});

it('is never opened with the IoT sync off (listed with 0)', async () => {
  const { service, bound, open, count, events, counters } = await setup({ iotSync: false });
  await bound('cam-4');
  await service.revoke('cam-4', 'identity', 'KeyCompromise');
  expect(await open('cam-4')).toEqual([]);
  expect(await count()).toBe(0);
  expect(await events()).toEqual([]);
  await counters.stop();
});
