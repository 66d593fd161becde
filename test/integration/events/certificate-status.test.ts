/**
 * Certificate status intake on the real adapter and the embedded engine: the serial index finds the
 * version, the device changes through the usual transaction (events, statistics, outbox, version
 * item), a superseded version only has its item rewritten, an unknown serial is acknowledged and counted.
 */
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { parseCertificate } from '../../../functions/domain/certificate';
import { intake as handler } from '../../../functions/handlers/events/certificate-status';
import { createServices, type Services, setServices } from '../../../functions/composition/composition';
import { loadConfig } from '../../../functions/runtime/config';
import { METRIC, metrics } from '../../../functions/runtime/observability';
import type { Engine } from '@device-manager/local-engine';
import { certificate, newKeyPair } from '../../support/certificates';
import { startCounters, freshTable, startTestEngine, type TestTable } from '../../support/dynamo';

const DAY = 86_400_000;
let engine: Engine;
let table: TestTable;
let services: Services;
let counters: ReturnType<typeof startCounters>;
beforeAll(async () => {
  engine = await startTestEngine();
  table = await freshTable(engine);
  counters = startCounters(table, 4); // the default STATS_SHARDS
  services = createServices(
    loadConfig({ TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: engine.endpoint, AWS_REGION: 'us-east-1' }),
  );
  setServices(services);
});
afterAll(async () => {
  setServices(undefined);
  await engine.stop();
});

const statusEvent = (updated: Record<string, unknown>): EventBridgeEvent<string, unknown> => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'certificate.status.update',
  source: 'lamassu.ca',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {
    specversion: '1.0',
    id: randomUUID(),
    source: 'lamassu.ca',
    type: 'certificate.status.update',
    data: { previous: {}, updated },
  },
});

async function outboxOf(id: string) {
  const out = await table.documentClient.send(
    new ScanCommand({
      TableName: table.tableName,
      FilterExpression: 'kind = :k',
      ExpressionAttributeValues: { ':k': 'outbox' },
    }),
  );
  // A scan returns them in key order; their times give the commit order.
  return (out.Items ?? [])
    .map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)) as { type: string; subject: string; time: string })
    .filter((e) => e.subject === `device/${id}`)
    .sort((a, b) => a.time.localeCompare(b.time));
}

async function bindNew(id: string, notAfterDays = 200, keys?: Awaited<ReturnType<typeof newKeyPair>>) {
  const cert = await certificate({ notAfter: new Date(Date.now() + notAfterDays * DAY), keys });
  await services.devices.bind(id, 'identity', { type: 'x509', certificate: parseCertificate(cert.pem) });
  return cert.serial;
}

it('REVOKED: the active identity version is revoked with the reported reason, through one transaction', async () => {
  await services.devices.register({ id: 'cs-1', dms_id: 'dms-cs' });
  const serial = await bindNew('cs-1');
  await counters.settle();
  const before = await services.devices.stats([]);
  const colons = serial.padStart(6, '0').match(/../g)!.join(':').toUpperCase(); // Lamassu-style 00:1A:2B
  const report = await handler(
    statusEvent({ serial_number: colons, status: 'REVOKED', revocation_reason: 'keyCompromise' }),
  );
  expect(report).toMatchObject({
    outcome: 'applied',
    results: [{ device_id: 'cs-1', slot: 'identity', version: 0, outcome: 'changed' }],
  });
  const device = await services.devices.get('cs-1');
  expect(device).toMatchObject({ status: 'REVOKED', identity: { status: 'REVOKED' } });
  expect(await services.devices.slotVersion('cs-1', 'identity', 0)).toMatchObject({
    status: 'REVOKED',
    revocation_reason: 'KeyCompromise',
  });
  const history = (await services.devices.events('cs-1', 10)).list.map((e) => e.type);
  expect(history.slice(0, 2)).toEqual(['STATUS-UPDATED', 'REVOKED']);
  expect((await outboxOf('cs-1')).map((e) => e.type).slice(-2)).toEqual([
    'device.identity.update',
    'device.status.update',
  ]);
  await counters.settle();
  const after = await services.devices.stats([]);
  expect(after.status_distribution.REVOKED - before.status_distribution.REVOKED).toBe(1);
  expect(before.status_distribution.ACTIVE - after.status_distribution.ACTIVE).toBe(1);

  // A redelivery changes nothing: no event, no new version.
  const again = await handler(statusEvent({ serial_number: serial, status: 'REVOKED' }));
  expect(again.results[0]).toMatchObject({ outcome: 'unchanged' });
  expect((await services.devices.get('cs-1')).version).toBe(device.version);
});

it('a superseded version only gets its version item updated', async () => {
  await services.devices.register({ id: 'cs-2', dms_id: 'dms-cs' });
  const keys = await newKeyPair();
  const old = await bindNew('cs-2', 100, keys);
  await bindNew('cs-2', 300, keys);
  const device = await services.devices.get('cs-2');
  const outboxBefore = (await outboxOf('cs-2')).length;
  const report = await handler(statusEvent({ serial_number: old, status: 'REVOKED', revocation_reason: 'Superseded' }));
  expect(report.results).toEqual([expect.objectContaining({ version: 0, outcome: 'version-updated' })]);
  expect(await services.devices.slotVersion('cs-2', 'identity', 0)).toMatchObject({
    status: 'REVOKED',
    revocation_reason: 'Superseded',
  });
  expect(await services.devices.slotVersion('cs-2', 'identity', 1)).toMatchObject({ status: 'ACTIVE' });
  expect(await services.devices.get('cs-2')).toEqual(device);
  expect(await outboxOf('cs-2')).toHaveLength(outboxBefore);

  // Released hold on a superseded version: back to SUPERSEDED; any other reason stays.
  await handler(statusEvent({ serial_number: old, status: 'ACTIVE' }));
  expect((await services.devices.slotVersion('cs-2', 'identity', 0)).status).toBe('REVOKED');
});

it('CertificateHold then ACTIVE: revoked, then re-evaluated by the status rules', async () => {
  await services.devices.register({ id: 'cs-3', dms_id: 'dms-cs' });
  const serial = await bindNew('cs-3', 30);
  await handler(statusEvent({ serial_number: serial, status: 'REVOKED', revocation_reason: 'CertificateHold' }));
  expect((await services.devices.get('cs-3')).status).toBe('REVOKED');
  const report = await handler(statusEvent({ serial_number: serial, status: 'active' }));
  expect(report.results).toEqual([
    expect.objectContaining({ outcome: 'changed', note: 'device status REVOKED -> RENEWAL_PENDING' }),
  ]);
  expect(await services.devices.get('cs-3')).toMatchObject({
    status: 'RENEWAL_PENDING',
    identity: { status: 'RENEWAL_PENDING' },
  });
  const version = await services.devices.slotVersion('cs-3', 'identity', 0);
  expect(version.status).toBe('ACTIVE');
  expect(version.revocation_reason).toBeUndefined();
});

it('an unknown serial is acknowledged and counted; an unreadable event is acknowledged', async () => {
  const added = jest.spyOn(metrics, 'addMetric');
  try {
    expect(await handler(statusEvent({ serial_number: 'fedcba9876', status: 'REVOKED' }))).toEqual({
      outcome: 'unknown-serial',
      serial: 'fedcba9876',
      status: 'REVOKED',
      results: [],
    });
    expect(added).toHaveBeenCalledWith(METRIC.unknownSerials, 'Count', 1);
    expect(await handler(statusEvent({ serial_number: 'fedcba9876', status: 'SUSPENDED' }))).toEqual({
      outcome: 'invalid',
      results: [],
    });
    expect(await handler({ ...statusEvent({}), detail: 'nonsense' })).toEqual({ outcome: 'invalid', results: [] });
  } finally {
    added.mockRestore();
  }
});

it('EXPIRED is believed only at the certificate’s not_after', async () => {
  await services.devices.register({ id: 'cs-4', dms_id: 'dms-cs' });
  const serial = await bindNew('cs-4', 200);
  const report = await handler(statusEvent({ serial_number: serial, status: 'EXPIRED' }));
  expect(report.results).toEqual([
    expect.objectContaining({ outcome: 'unchanged', note: expect.stringContaining('not yet') }),
  ]);
  expect((await services.devices.get('cs-4')).status).toBe('ACTIVE');
});

it(
  'a version bound by reference (serial and expiration, no PEM: ' + 'the Lamassu edge) is found by its serial too',
  async () => {
    await services.devices.register({ id: 'cs-ref', dms_id: 'dms-cs' });
    await services.devices.bind('cs-ref', 'identity', {
      type: 'x509',
      serial_number: '00Ab12',
      expiration_date: new Date(Date.now() + 200 * DAY).toISOString(),
    });
    await handler(statusEvent({ serial_number: 'ab12', status: 'REVOKED' }));
    expect(await services.devices.get('cs-ref')).toMatchObject({ status: 'REVOKED', identity: { status: 'REVOKED' } });
  },
);
