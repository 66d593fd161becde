/**
 * End to end: the local service publishes every change from the engine's change feed to the local
 * bus (the events file holds the CloudEvents in order), and a `certificate.status.update` put on
 * that bus, by `npm run event` or the endpoint behind it, revokes the right slot.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { call as request, startTestService } from '../support/http';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY);

let service: LocalService;
let dir: string;
let file: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'device-manager-events-'));
  file = path.join(dir, 'events.ndjson');
  service = await startTestService({ LOCAL_EVENTS_FILE: file, EVENT_SOURCE: 'acme.device-manager' });
});
afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(service.url, method, route, body, headers);

interface BusLine {
  'detail-type': string;
  source: string;
  account: string;
  detail: {
    specversion: string;
    id: string;
    source: string;
    type: string;
    subject: string;
    time: string;
    datacontenttype: string;
    data: any;
  };
}
const lines = (): BusLine[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as BusLine);
const ofDevice = (id: string) => lines().filter((l) => l.detail.subject === `device/${id}`);

it('publishes create, bind, revoke and decommission as CloudEvents, in order, once each', async () => {
  expect(
    (await call('POST', '/v2/devices', { id: 'ev-1', dms_id: 'dms-e2e', metadata: { firmware_version: '1.0' } }))
      .status,
  ).toBe(201);
  expect(
    (
      await call(
        'PATCH',
        '/v2/devices/ev-1',
        { metadata: { firmware_version: '1.1' } },
        { 'content-type': 'application/merge-patch+json' },
      )
    ).status,
  ).toBe(200);
  const { pem, serial } = await certificate({ notAfter: inDays(365) });
  expect((await call('PUT', '/v2/devices/ev-1/idslot', { certificate: pem })).status).toBe(200);
  expect((await call('POST', '/v2/devices/ev-1/idslot/revoke', { reason: 'KeyCompromise' })).status).toBe(200);
  expect((await call('DELETE', '/v2/devices/ev-1')).status).toBe(200);
  await service.events.drain();

  const events = ofDevice('ev-1');
  expect(
    events.map((e) => [e['detail-type'], e.detail.data?.previous?.status, e.detail.data?.updated?.status]),
  ).toEqual([
    ['device.create', undefined, undefined],
    ['device.update', undefined, undefined],
    ['device.identity.update', undefined, 'ACTIVE'],
    ['device.status.update', 'NO_IDENTITY', 'ACTIVE'],
    ['device.identity.update', 'ACTIVE', 'REVOKED'],
    ['device.status.update', 'ACTIVE', 'REVOKED'],
    ['device.decommission', 'REVOKED', 'DECOMMISSIONED'],
    ['device.status.update', 'REVOKED', 'DECOMMISSIONED'],
  ]);
  for (const e of events) {
    expect(e.source).toBe('acme.device-manager');
    expect(e.detail).toMatchObject({
      specversion: '1.0',
      source: 'acme.device-manager',
      type: e['detail-type'],
      subject: 'device/ev-1',
      datacontenttype: 'application/json',
    });
    expect(e.detail.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  expect(new Set(events.map((e) => e.detail.id)).size).toBe(events.length);
  expect(events[0]!.detail.data).toMatchObject({ id: 'ev-1', dms_owner: 'dms-e2e', status: 'NO_IDENTITY' });
  expect(events[1]!.detail.data).toEqual({
    previous: expect.objectContaining({ metadata: { firmware_version: '1.0' } }),
    updated: expect.objectContaining({ metadata: { firmware_version: '1.1' } }),
  });
  expect(events[2]!.detail.data.updated.secrets).toEqual({ '0': serial });
  // The order of the file is the commit order.
  const times = events.map((e) => e.detail.time);
  expect([...times].sort()).toEqual(times);
});

it('an injected certificate.status.update revokes the slot version holding the serial', async () => {
  await call('POST', '/v2/devices', { id: 'ev-2', dms_id: 'dms-e2e' });
  await call('POST', '/v2/devices', { id: 'ev-3', dms_id: 'dms-e2e' });
  const mine = await certificate({ notAfter: inDays(300) });
  const other = await certificate({ notAfter: inDays(300) });
  await call('PUT', '/v2/devices/ev-2/idslot', { certificate: mine.pem });
  await call('PUT', '/v2/devices/ev-3/idslot', { certificate: other.pem });
  await call('PUT', '/v2/devices/ev-3/slots/tls', { certificate: mine.pem });

  // What `npm run event -- certificate-revoked <serial> CertificateHold` sends (it is run for real below).
  const put = await call('POST', '/_local/events', {
    source: 'ca.test',
    'detail-type': 'certificate.status.update',
    detail: {
      specversion: '1.0',
      id: randomUUID(),
      source: 'ca.test',
      type: 'certificate.status.update',
      time: new Date().toISOString(),
      data: {
        updated: { serial_number: mine.serial.toUpperCase(), status: 'REVOKED', revocation_reason: 'CertificateHold' },
      },
    },
  });
  expect(put.status).toBe(200);
  expect(put.body.deliveries).toEqual([
    expect.objectContaining({
      target: 'certificate-status',
      ok: true,
      result: expect.objectContaining({ outcome: 'applied' }),
    }),
  ]);
  await service.events.drain();
  expect((await call('GET', '/v2/devices/ev-2')).body).toMatchObject({
    status: 'REVOKED',
    identity: { status: 'REVOKED' },
  });
  // The same serial in an extra slot of another device: that slot is revoked, the device status stays.
  expect((await call('GET', '/v2/devices/ev-3')).body).toMatchObject({
    status: 'ACTIVE',
    slots: { tls: { status: 'REVOKED' } },
  });
  expect((await call('GET', '/v2/devices/ev-2/slots/identity/versions/0')).body).toMatchObject({
    status: 'REVOKED',
    revocation_reason: 'CertificateHold',
  });
  // The certificate was shared with ev-3's tls slot: its revocation also resolves ev-2's shared findings.
  const types = ofDevice('ev-2').map((e) => e['detail-type']);
  expect(types.filter((t) => !t.startsWith('device.finding.')).slice(-2)).toEqual([
    'device.identity.update',
    'device.status.update',
  ]);
  expect(types.slice(-2)).toEqual(['device.finding.resolve', 'device.finding.resolve']);
  expect(lines().filter((l) => l['detail-type'] === 'certificate.status.update')).toHaveLength(1);

  // The hold is released by `npm run event -- certificate-active <serial>`: the status rules decide again.
  const port = new URL(service.url).port;
  const { stdout } = await run(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      path.join(REPO_ROOT, 'local', 'event.ts'),
      'certificate-active',
      mine.serial,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: port, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    },
  );
  expect(stdout).toContain('certificate-status: applied');
  await service.events.drain();
  expect((await call('GET', '/v2/devices/ev-2')).body).toMatchObject({
    status: 'ACTIVE',
    identity: { status: 'ACTIVE' },
  });
  expect((await call('GET', '/v2/devices/ev-2/slots/identity/versions/0')).body.status).toBe('ACTIVE');
}, 60_000);

it('acknowledges a serial that belongs to no device', async () => {
  const put = await call('POST', '/_local/events', {
    source: 'ca.test',
    'detail-type': 'certificate.status.update',
    detail: { data: { updated: { serial_number: 'deadbeef01', status: 'REVOKED' } } },
  });
  expect(put.body.deliveries).toEqual([
    expect.objectContaining({
      ok: true,
      result: { outcome: 'unknown-serial', serial: 'deadbeef01', status: 'REVOKED', results: [] },
    }),
  ]);
  expect((await call('POST', '/_local/events', { nope: true })).status).toBe(400);
});

it('documents the events and the choices the contract leaves open in the OpenAPI document (x-events)', async () => {
  const doc = (await call('GET', '/v2/openapi.json')).body;
  expect(doc['x-events']).toMatchObject({
    consumed: { detail_type: 'certificate.status.update' },
    envelope: { example: { specversion: '1.0' } },
  });
  expect(doc['x-events'].published.map((p: { type: string }) => p.type)).toEqual(
    expect.arrayContaining(['device.create', 'device.status.update', 'device.decommission']),
  );
});
