/**
 * End to end: the local service with the IoT sync on (a dry run: AWS IoT in memory), from the API to
 * `iot` in GET /v2/devices/{id}: the thing, the certificate the sync registered and attached, the
 * device version it synced, and a hold shown as INACTIVE then ACTIVE again.
 */
import { parseCertificate } from '../../functions/domain/certificate';
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { call as request, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService({ IOT_SYNC_ENABLED: 'true', IOT_METADATA_KEYS: 'model' });
});
afterAll(async () => {
  await service?.stop();
});

const call = (method: string, route: string, body?: unknown) => request(service.url, method, route, body);

it('shows what the sync did as read-only `iot` of the device', async () => {
  expect((await call('POST', '/v2/devices', { id: 'cam.01', dms_id: 'dms-1', metadata: { model: 'x' } })).status).toBe(
    201,
  );
  const { pem, serial } = await certificate({ notAfter: new Date(Date.now() + 400 * 86_400_000) });
  const fingerprint = parseCertificate(pem).sha256_fingerprint;
  expect((await call('PUT', '/v2/devices/cam.01/idslot', { certificate: pem })).status).toBe(200);
  await service.events.drain();

  const device = (await call('GET', '/v2/devices/cam.01')).body;
  expect(device.iot).toEqual({
    thing_name: 'cam_01',
    thing_arn: expect.stringMatching(/^arn:aws:iot:[a-z0-9-]+:\d{12}:thing\/cam_01$/),
    certificate_id: fingerprint,
    certificate_arn: expect.stringMatching(new RegExp(`:cert/${fingerprint}$`)),
    certificate_status: 'ACTIVE',
    attached: true,
    thing_groups: [],
    policies: [],
    synced_version: device.version,
    last_sync: expect.any(String),
  });
  // Only the device's own route shows it: lists stay as they were.
  const listed = (await call('GET', '/v2/devices?filter=id[eq]cam.01')).body.list;
  expect(listed[0].iot).toBeUndefined();

  // The CA puts the certificate on hold, then releases it: INACTIVE in AWS IoT, then ACTIVE again.
  const put = (status: string, reason?: string) =>
    call('POST', '/_local/events', {
      source: 'lamassu',
      'detail-type': 'certificate.status.update',
      detail: {
        specversion: '1.0',
        id: `ca-${status}`,
        source: 'lamassu',
        type: 'certificate.status.update',
        subject: `certificate/${serial}`,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { updated: { serial_number: serial, status, ...(reason ? { revocation_reason: reason } : {}) } },
      },
    });
  expect((await put('REVOKED', 'CertificateHold')).status).toBeLessThan(300);
  await service.events.drain();
  expect((await call('GET', '/v2/devices/cam.01')).body.iot).toMatchObject({ certificate_status: 'INACTIVE' });
  expect((await put('ACTIVE')).status).toBeLessThan(300);
  await service.events.drain();
  const released = (await call('GET', '/v2/devices/cam.01')).body;
  expect(released.iot).toMatchObject({ certificate_status: 'ACTIVE', synced_version: released.version });
});

it("puts the thing in its DMS's thing groups and attaches its DMS's policies to the certificate", async () => {
  const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] };
  const settings = { preventive_delta: '60d', critical_delta: '14d' };
  const iot = { policies: [{ name: 'line-2-connect', document }], thing_groups: ['line-2'] };
  expect((await call('PUT', '/v2/dms/dms-2', { settings, iot })).status).toBe(200);
  expect((await call('GET', '/v2/dms/dms-2')).body.iot).toEqual({ ...iot, registration: 'on-bind' });
  expect((await call('POST', '/v2/devices', { id: 'cam.02', dms_id: 'dms-2' })).status).toBe(201);
  const { pem } = await certificate({ notAfter: new Date(Date.now() + 400 * 86_400_000) });
  expect((await call('PUT', '/v2/devices/cam.02/idslot', { certificate: pem })).status).toBe(200);
  await service.events.drain();
  expect((await call('GET', '/v2/devices/cam.02')).body.iot).toMatchObject({
    attached: true,
    thing_groups: ['line-2'],
    policies: ['line-2-connect'],
  });
  // AWS IoT would refuse the group name: a 400 naming the field, nothing stored.
  const bad = await call('PUT', '/v2/dms/dms-2', { settings, iot: { thing_groups: ['line 2'] } });
  expect(bad.status).toBe(400);
  expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(['iot.thing_groups.0']);
  expect((await call('GET', '/v2/dms/dms-2')).body.iot.thing_groups).toEqual(['line-2']);
});
