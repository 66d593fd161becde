/**
 * End to end: the local service with the IoT sync on (a dry run: AWS IoT in memory), from the API to
 * `iot` in GET /v2/devices/{id}: the thing, the certificate the sync registered and attached, the
 * device version it synced, and a hold shown as INACTIVE then ACTIVE again.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificate } from '../../functions/domain/certificate';
import type { LocalService } from '../../local/main';
import { caCertificate } from '../support/ca-certificates';
import { certificate } from '../support/certificates';
import { cli } from '../support/cli';
import { call as request, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService({ IOT_SYNC_ENABLED: 'true', IOT_METADATA_KEYS: 'model', IOT_PRESENCE: 'true' });
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

it('registers a CA through the API (locally a dry run): the code, SNI_ONLY, then 409 for the same CA', async () => {
  expect((await call('GET', '/v2/iot/registration-code')).body).toEqual({ registration_code: expect.any(String) });
  const ca = await caCertificate();
  const first = await call('POST', '/v2/iot/ca-certificates', { certificate_pem: ca.pem, mode: 'SNI_ONLY' });
  expect(first.status).toBe(201);
  expect(first.body).toMatchObject({ mode: 'SNI_ONLY', status: 'ACTIVE', auto_registration: false });
  const again = await call('POST', '/v2/iot/ca-certificates', { certificate_pem: ca.pem, mode: 'SNI_ONLY' });
  expect(again).toMatchObject({ status: 409, body: { code: 'CA_ALREADY_REGISTERED' } });
  const noProof = await call('POST', '/v2/iot/ca-certificates', { certificate_pem: ca.pem });
  expect(noProof.status).toBe(400);
  expect(noProof.body.details.map((d: { field: string }) => d.field)).toEqual(['verification_certificate_pem']);
});

it('registers a CA with the CLI: the openssl steps without a proof, then DEFAULT mode with one', async () => {
  const ca = await caCertificate('CN=CLI CA');
  const dir = mkdtempSync(join(tmpdir(), 'iot-ca-'));
  writeFileSync(join(dir, 'ca.pem'), ca.pem);
  const code = await cli(['iot', 'registration-code', '--api', service.url]);
  expect(code).toMatchObject({ code: 0, stdout: 'dry-run-registration-code\n' });

  const steps = await cli(['iot', 'register-ca', '--api', service.url, '--ca-certificate', join(dir, 'ca.pem')]);
  expect(steps.code).toBe(2);
  expect(steps.stderr).toContain('-subj "/CN=dry-run-registration-code"');
  expect(steps.stdout).toBe('');

  writeFileSync(join(dir, 'verification.pem'), await ca.sign('CN=dry-run-registration-code'));
  const args = ['--ca-certificate', join(dir, 'ca.pem'), '--verification-certificate', join(dir, 'verification.pem')];
  const registered = await cli(['iot', 'register-ca', '--api', service.url, ...args, '--auto-registration']);
  expect(registered.stderr).toBe('');
  expect(registered.code).toBe(0);
  expect(registered.stdout).toMatch(/^CA [0-9a-f]{64} registered: DEFAULT ACTIVE auto-registration \(arn:aws:iot:/);
  const again = await cli(['iot', 'register-ca', '--api', service.url, ...args]);
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(/409 CA_ALREADY_REGISTERED/);
  // A verification certificate the CA did not sign is refused before AWS IoT, naming the field.
  const other = await caCertificate('CN=Other CA');
  writeFileSync(join(dir, 'other.pem'), await other.sign('CN=dry-run-registration-code'));
  const forged = await cli([
    'iot',
    'register-ca',
    '--api',
    service.url,
    '--ca-certificate',
    join(dir, 'ca.pem'),
    '--verification-certificate',
    join(dir, 'other.pem'),
  ]);
  expect(forged.code).toBe(2);
  expect(forged.stderr).toMatch(/400 .*verification_certificate_pem: is not signed by the CA certificate/);
});

it('takes AWS IoT presence events locally: connectivity on the device, the connected filter, the counts', async () => {
  for (const id of ['pr.1', 'pr.2', 'pr-3'])
    expect((await call('POST', '/v2/devices', { id, dms_id: 'dms-p' })).status).toBe(201);
  const t0 = Date.now();
  // As AWS IoT's rule delivers them: the thing name (`.` as `_`) is the client id.
  const fed = await call('POST', '/_local/events', [
    { clientId: 'pr_1', eventType: 'connected', timestamp: t0, sessionIdentifier: 's1' },
    { clientId: 'pr_2', eventType: 'connected', timestamp: t0 },
    { clientId: 'pr-3', eventType: 'disconnected', timestamp: t0 },
    { clientId: 'ghost', eventType: 'connected', timestamp: t0 },
  ]);
  expect(fed).toMatchObject({ status: 200, body: { written: 3, deferred: [], dropped: 0, unknown: ['ghost'] } });
  // Within the device's minute: deferred (applied again a minute later), the stored state unchanged.
  const soon = await call('POST', '/_local/events', { clientId: 'pr_2', eventType: 'disconnected', timestamp: t0 + 1 });
  expect(soon.body).toMatchObject({ written: 0, deferred: ['pr_2'] });

  expect((await call('GET', '/v2/devices/pr.1')).body.connectivity).toEqual({
    connected: true,
    since: new Date(t0).toISOString(),
    last_seen: new Date(t0).toISOString(),
  });
  const listed = await call('GET', '/v2/devices?filter=connected[eq]true&filter=dms_owner[eq]dms-p&sort_by=id');
  expect(listed.body.list.map((d: { id: string }) => d.id)).toEqual(['pr.1', 'pr.2']);
  const stats = await call('GET', '/v2/stats/connectivity');
  expect(stats).toMatchObject({ status: 200, body: { connected: 2, disconnected: 1 } });
  expect(Date.parse(stats.body.consistent_as_of)).toBeGreaterThan(0);

  const bad = await call('POST', '/_local/events', { clientId: 'pr_1', eventType: 'maybe', timestamp: t0 });
  expect(bad).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR' } });
});
