/**
 * Fleet posture over HTTP (docs/api.md, Fleet posture): the posture policy with If-Match, findings
 * judged in each device's own change (bind, renewal, revoke, decommission), the open counts per
 * check, the devices of a check, `findings` on the device, `device.finding.*` events, and the
 * background re-evaluation after a policy change (409 INDEX_NOT_READY until the first one is done).
 */
import 'reflect-metadata';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { call as request, startTestService } from '../support/http';

let service: LocalService;
let file: string;
beforeAll(async () => {
  file = path.join(mkdtempSync(path.join(tmpdir(), 'posture-')), 'events.ndjson');
  service = await startTestService({ LIST_SHARDS: '2', STATS_SHARDS: '2', LOCAL_EVENTS_FILE: file });
});
afterAll(async () => {
  await service.stop();
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(service.url, method, path, body, headers);

const RSA_SHA1 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-1', publicExponent: new Uint8Array([1, 0, 1]) };

/** A self-signed RSA-1024 certificate signed with SHA-1: weak key and weak signature under the defaults. */
async function weakCertificate(): Promise<string> {
  const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const keys = {
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      pair.publicKey.export({ type: 'spki', format: 'der' }),
      RSA_SHA1,
      true,
      ['verify'],
    ),
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
      RSA_SHA1,
      true,
      ['sign'],
    ),
  };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0badc0de',
    name: 'CN=weak, O=posture tests',
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2099-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: RSA_SHA1,
  });
  return cert.toString('pem');
}

const good = () => certificate({ notBefore: '2024-01-01T00:00:00Z', notAfter: '2099-01-01T00:00:00Z' });
const bind = (id: string, pem: string) => call('PUT', `/v2/devices/${id}/idslot`, { certificate: pem });

/** The `device.finding.*` CloudEvents published so far (the file holds their EventBridge entries). */
async function findingEvents(): Promise<{ type: string; data: Record<string, unknown> }[]> {
  await service.events.drain();
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line).detail)
    .filter((e) => String(e.type).startsWith('device.finding.'));
}

describe('fleet posture', () => {
  it('answers 409 INDEX_NOT_READY until every device bound before was assessed', async () => {
    expect((await call('POST', '/v2/devices', { id: 'old', dms_id: 'dms-a' })).status).toBe(201);
    const before = await call('GET', '/v2/findings');
    expect(before.status).toBe(409);
    expect(before.body.code).toBe('INDEX_NOT_READY');
    expect((await call('GET', '/v2/findings/weak-key')).status).toBe(409);
    await service.sweepNow();
    const after = await call('GET', '/v2/findings');
    expect(after.status).toBe(200);
    expect(after.body.checks).toContainEqual({ check: 'weak-key', open: 0 });
  });

  it('serves the default policy and replaces it with If-Match', async () => {
    const got = await call('GET', '/v2/posture/policy');
    expect(got.body).toMatchObject({
      min_rsa_bits: 2048,
      min_ec_curve: 'P-256',
      weak_signature_hashes: ['SHA1', 'MD5'],
    });
    expect(got.headers.get('etag')).toBe('"0"');
    const stale = await call('PUT', '/v2/posture/policy', { max_validity_days: 30 }, { 'if-match': '"7"' });
    expect(stale.status).toBe(412);
    const bad = await call('PUT', '/v2/posture/policy', { min_rsa_bits: 'lots' });
    expect(bad.status).toBe(400);
    expect((await call('GET', '/v2/posture/policy')).headers.get('etag')).toBe('"0"');
  });

  it('opens findings in the bind that causes them and resolves them in the re-provision that fixes them', async () => {
    expect((await call('POST', '/v2/devices', { id: 'weak-1', dms_id: 'dms-a' })).status).toBe(201);
    expect((await call('POST', '/v2/devices', { id: 'fine-1', dms_id: 'dms-a' })).status).toBe(201);
    expect((await bind('weak-1', await weakCertificate())).status).toBe(200);
    expect((await bind('fine-1', (await good()).pem)).status).toBe(200);

    const device = await call('GET', '/v2/devices/weak-1');
    expect(device.body.findings.map((f: { check: string }) => f.check)).toEqual(['weak-key', 'weak-signature']);
    expect(device.body.findings[0]).toMatchObject({ slot: 'identity', detail: expect.stringContaining('RSA-1024') });
    expect((await call('GET', '/v2/devices/fine-1')).body.findings).toEqual([]);

    const counts = await call('GET', '/v2/findings');
    expect(counts.body.checks).toContainEqual({ check: 'weak-key', open: 1 });
    expect(counts.body.checks).toContainEqual({ check: 'weak-signature', open: 1 });
    const list = await call('GET', '/v2/findings/weak-key');
    expect(list.body).toEqual({
      list: [
        { device_id: 'weak-1', slot: 'identity', since: device.body.findings[0].since, detail: expect.any(String) },
      ],
      next: '',
    });
    expect((await call('GET', '/v2/findings/not-a-check')).status).toBe(400);

    expect((await bind('weak-1', (await good()).pem)).status).toBe(200);
    expect((await call('GET', '/v2/devices/weak-1')).body.findings).toEqual([]);
    expect((await call('GET', '/v2/findings/weak-key')).body.list).toEqual([]);
    expect((await call('GET', '/v2/findings')).body.checks).toContainEqual({ check: 'weak-key', open: 0 });
    const events = (await findingEvents()).filter((e) => e.data.device_id === 'weak-1');
    expect(events.map((e) => `${e.type} ${e.data.check}`)).toEqual([
      'device.finding.open weak-key',
      'device.finding.open weak-signature',
      'device.finding.resolve weak-key',
      'device.finding.resolve weak-signature',
    ]);
  });

  it('resolves a device’s findings when its certificate is revoked', async () => {
    expect((await call('POST', '/v2/devices', { id: 'weak-2', dms_id: 'dms-b' })).status).toBe(201);
    expect((await bind('weak-2', await weakCertificate())).status).toBe(200);
    expect((await call('GET', '/v2/devices/weak-2')).body.findings).toHaveLength(2);
    const revoked = await call('POST', '/v2/devices/weak-2/idslot/revoke', { reason: 'KeyCompromise' });
    expect(revoked.status).toBe(200);
    expect((await call('GET', '/v2/devices/weak-2')).body.findings).toEqual([]);
    expect((await call('GET', '/v2/findings')).body.checks).toContainEqual({ check: 'weak-signature', open: 0 });
  });

  it('judges the fleet again in the background after a policy change', async () => {
    const policy = await call('PUT', '/v2/posture/policy', { max_validity_days: 365 }, { 'if-match': '"0"' });
    expect(policy.status).toBe(200);
    expect(policy.headers.get('etag')).toBe('"1"');
    // Nothing changed yet: the fleet is judged by the sweeper's posture job.
    expect((await call('GET', '/v2/findings/validity-too-long')).body.list).toEqual([]);
    const report = await service.sweepNow();
    expect(report.complete).toBe(true);
    const long = await call('GET', '/v2/findings/validity-too-long');
    expect(long.body.list.map((r: { device_id: string }) => r.device_id)).toEqual(['fine-1', 'weak-1']);
    expect((await call('GET', '/v2/findings')).body.checks).toContainEqual({ check: 'validity-too-long', open: 2 });
    // A second run has nothing left to judge: the devices carry the policy version.
    const again = await call('GET', '/v2/devices/fine-1');
    await service.sweepNow();
    expect((await call('GET', '/v2/devices/fine-1')).headers.get('etag')).toBe(again.headers.get('etag'));
  });

  it('opens shared-certificate and shared-key on both holders of one certificate, counted and listed', async () => {
    const shared = (await certificate({ notBefore: '2026-06-01T00:00:00Z', notAfter: '2027-05-01T00:00:00Z' })).pem;
    for (const id of ['twin-1', 'twin-2']) {
      expect((await call('POST', '/v2/devices', { id, dms_id: 'dms-b' })).status).toBe(201);
      expect((await bind(id, shared)).status).toBe(200);
    }
    // The reconciler on the stream judges them; the counts' route waits for the stream to be applied.
    const counts = (await call('GET', '/v2/findings')).body.checks;
    expect(counts).toContainEqual({ check: 'shared-certificate', open: 2 });
    expect(counts).toContainEqual({ check: 'shared-key', open: 2 });
    for (const id of ['twin-1', 'twin-2'])
      expect((await call('GET', `/v2/devices/${id}`)).body.findings.map((f: { check: string }) => f.check)).toEqual([
        'shared-certificate',
        'shared-key',
      ]);
    const listed = (await call('GET', '/v2/findings/shared-key')).body.list;
    expect(listed.map((r: { device_id: string }) => r.device_id)).toEqual(['twin-1', 'twin-2']);

    expect((await call('DELETE', '/v2/devices/twin-2')).status).toBe(200);
    expect((await call('GET', '/v2/findings')).body.checks).toContainEqual({ check: 'shared-certificate', open: 0 });
    expect((await call('GET', '/v2/devices/twin-1')).body.findings).toEqual([]);
    const events = (await findingEvents()).filter((e) => e.data.device_id === 'twin-1');
    expect(events.map((e) => `${e.type} ${e.data.check}`)).toEqual([
      'device.finding.open shared-certificate',
      'device.finding.open shared-key',
      'device.finding.resolve shared-certificate',
      'device.finding.resolve shared-key',
    ]);
  });
});
