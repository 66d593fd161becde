/**
 * End to end over HTTP: identity and extra slots, revocation, versions, DMS policies and the sweeper
 * of the local service.
 */
import type { LocalService } from '../../local/main';
import { certificate, newKeyPair } from '../support/certificates';
import { call as request, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service.stop();
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(service.url, method, path, body, headers);

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY);

describe('identity slot', () => {
  beforeAll(async () => {
    expect((await call('POST', '/v2/devices', { id: 'cam-1', dms_id: 'dms-cams' })).status).toBe(201);
  });

  it('binds: PROVISIONED, device ACTIVE, version 0 served with the PEM and parsed fields', async () => {
    const keys = await newKeyPair();
    const { pem, serial } = await certificate({ keys, notAfter: inDays(365), subject: 'CN=cam-1' });
    const r = await call('PUT', '/v2/devices/cam-1/idslot', { certificate: pem });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: 'ACTIVE',
      identity: { status: 'ACTIVE', active_version: 0, type: 'x509', secrets: { '0': serial } },
    });
    expect(Object.values(r.body.identity.events)).toContainEqual(expect.objectContaining({ type: 'PROVISIONED' }));
    const v = await call('GET', '/v2/devices/cam-1/slots/identity/versions/0');
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({
      slot: 'identity',
      version: 0,
      status: 'ACTIVE',
      type: 'x509',
      serial_number: serial,
      subject: 'CN=cam-1',
      issuer: 'CN=cam-1',
      certificate: expect.stringContaining('BEGIN CERTIFICATE'),
    });
    expect(v.body.sha256_fingerprint).toMatch(/^[0-9a-f]{64}$/);

    const renewed = await call('PUT', '/v2/devices/cam-1/idslot', {
      certificate: (await certificate({ keys, notAfter: inDays(30) })).pem,
    });
    expect(renewed.body).toMatchObject({ status: 'RENEWAL_PENDING', identity: { active_version: 1 } });
    const events = await call('GET', '/v2/devices/cam-1/events?page_size=3');
    expect(events.body.list.map((e: { type: string }) => e.type)).toEqual([
      'STATUS-UPDATED',
      'RENEWED',
      'STATUS-UPDATED',
    ]);
    expect(events.body.list[1].slot).toBe('identity');

    const other = await call(
      'PUT',
      '/v2/devices/cam-1/idslot',
      { certificate: (await certificate({ notAfter: inDays(300) })).pem },
      { 'if-match': `"${renewed.body.version}"` },
    );
    expect(other.status).toBe(200);
    expect(Object.values(other.body.identity.events).map((e) => (e as { type: string }).type)).toContain(
      'RE-PROVISIONED',
    );
    expect((await call('GET', '/v2/devices/cam-1/slots/identity/versions/1')).body.status).toBe('SUPERSEDED');
  });

  it('400 for a non-certificate, 422 for an expired one, 415, 404, 412', async () => {
    const bad = await call('PUT', '/v2/devices/cam-1/idslot', { certificate: 'hello' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'certificate' }] });
    const expired = await call('PUT', '/v2/devices/cam-1/idslot', {
      certificate: (await certificate({ notAfter: inDays(-1) })).pem,
    });
    expect(expired).toMatchObject({ status: 422, body: { code: 'UNPROCESSABLE' } });
    const pem = (await certificate({ notAfter: inDays(100) })).pem;
    const res = await fetch(`${service.url}/v2/devices/cam-1/idslot`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: pem,
    });
    expect(res.status).toBe(415);
    expect((await call('PUT', '/v2/devices/nope/idslot', { certificate: pem })).status).toBe(404);
    expect((await call('PUT', '/v2/devices/cam-1/idslot', { certificate: pem }, { 'if-match': '"1"' })).status).toBe(
      412,
    );
    expect((await call('GET', '/v2/devices/cam-1/slots/identity/versions/99')).body.code).toBe('SLOT_NOT_FOUND');
  });

  it('revokes the identity: device REVOKED; unknown reason 400; a second revoke changes nothing', async () => {
    expect((await call('POST', '/v2/devices/cam-1/idslot/revoke', { reason: 'lost it' })).status).toBe(400);
    const r = await call('POST', '/v2/devices/cam-1/idslot/revoke', { reason: 'keyCompromise' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'REVOKED', identity: { status: 'REVOKED' } });
    const again = await call('POST', '/v2/devices/cam-1/idslot/revoke', { reason: 'KeyCompromise' });
    expect(again.body.version).toBe(r.body.version);
    expect(
      (await call('GET', `/v2/devices/cam-1/slots/identity/versions/${r.body.identity.active_version}`)).body,
    ).toMatchObject({ status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    expect((await call('GET', '/v2/stats/devices')).body.status_distribution.REVOKED).toBe(1);
  });

  it('decommission revokes the active identity (CessationOfOperation); binding afterwards is 409', async () => {
    expect((await call('POST', '/v2/devices', { id: 'cam-2', dms_id: 'dms-cams' })).status).toBe(201);
    await call('PUT', '/v2/devices/cam-2/idslot', { certificate: (await certificate({ notAfter: inDays(200) })).pem });
    const r = await call('DELETE', '/v2/devices/cam-2');
    expect(r.body).toMatchObject({ status: 'DECOMMISSIONED', identity: { status: 'REVOKED' } });
    expect((await call('GET', '/v2/devices/cam-2/slots/identity/versions/0')).body).toMatchObject({
      status: 'REVOKED',
      revocation_reason: 'CessationOfOperation',
    });
    const bind = await call('PUT', '/v2/devices/cam-2/idslot', {
      certificate: (await certificate({ notAfter: inDays(200) })).pem,
    });
    expect(bind).toMatchObject({ status: 409, body: { code: 'INVALID_STATE' } });
  });
});

describe('extra slots', () => {
  it('binds secrets and certificates with their own status; rejects private keys and the identity name', async () => {
    expect((await call('POST', '/v2/devices', { id: 'gw-1', dms_id: 'dms-gw' })).status).toBe(201);
    const token = await call('PUT', '/v2/devices/gw-1/slots/api-token', {
      type: 'TOKEN',
      secret: 'arn:aws:secretsmanager:eu-west-1:1:secret:gw-1',
      expiration_date: inDays(10).toISOString(),
    });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({
      status: 'NO_IDENTITY',
      slots: { 'api-token': { status: 'EXPIRING_SOON', type: 'TOKEN', active_version: 0 } },
    });
    const tls = await call('PUT', '/v2/devices/gw-1/slots/tls-server', {
      certificate: (await certificate({ notAfter: inDays(400) })).pem,
    });
    expect(tls.body.slots['tls-server']).toMatchObject({ status: 'ACTIVE', type: 'x509' });
    const key = await call('PUT', '/v2/devices/gw-1/slots/ssh', {
      type: 'SSH_KEY',
      secret: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----',
    });
    expect(key).toMatchObject({ status: 400, body: { details: [{ field: 'secret' }] } });
    expect((await call('PUT', '/v2/devices/gw-1/slots/identity', { type: 'TOKEN', secret: 'x' })).status).toBe(400);
    expect((await call('PUT', '/v2/devices/gw-1/slots/ssh', { type: 'PASSWORD', secret: 'x' })).status).toBe(400);
    const revoked = await call('POST', '/v2/devices/gw-1/slots/api-token/revoke', { reason: 'Superseded' });
    expect(revoked.body).toMatchObject({ status: 'NO_IDENTITY', slots: { 'api-token': { status: 'REVOKED' } } });
    expect((await call('POST', '/v2/devices/gw-1/slots/none/revoke', { reason: 'Superseded' })).status).toBe(404);
    expect((await call('GET', '/v2/devices/gw-1/slots/api-token/versions/0')).body).toMatchObject({
      type: 'TOKEN',
      secret: 'arn:aws:secretsmanager:eu-west-1:1:secret:gw-1',
      status: 'REVOKED',
    });
  });
});

describe('DMS policies and the sweeper', () => {
  it('serves defaults, validates, stores with ETag, and re-evaluates devices on the next sweep', async () => {
    expect((await call('GET', '/v2/dms/dms-sweep')).body).toEqual({
      id: 'dms-sweep',
      name: 'dms-sweep',
      settings: { preventive_delta: '60d', critical_delta: '14d' },
      version: 0,
    });
    expect(
      (await call('PUT', '/v2/dms/dms-sweep', { settings: { preventive_delta: '10d', critical_delta: '20d' } })).body
        .details,
    ).toEqual([{ field: 'settings.critical_delta', problem: 'must be shorter than preventive_delta' }]);
    expect(
      (await call('PUT', '/v2/dms/dms-sweep', { settings: { preventive_delta: '2w', critical_delta: '1d' } })).status,
    ).toBe(400);

    await call('POST', '/v2/devices', { id: 'sw-1', dms_id: 'dms-sweep' });
    await call('PUT', '/v2/devices/sw-1/idslot', { certificate: (await certificate({ notAfter: inDays(80) })).pem });
    expect((await call('GET', '/v2/devices/sw-1')).body.status).toBe('ACTIVE');

    const put = await call('PUT', '/v2/dms/dms-sweep', {
      name: 'Sweep line',
      settings: { preventive_delta: '90d', critical_delta: '30d' },
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"1"');
    expect(put.body).toEqual({
      id: 'dms-sweep',
      name: 'Sweep line',
      settings: { preventive_delta: '90d', critical_delta: '30d' },
      version: 1,
    });
    expect(
      (
        await call(
          'PUT',
          '/v2/dms/dms-sweep',
          { settings: { preventive_delta: '90d', critical_delta: '30d' } },
          { 'if-match': '"0"' },
        )
      ).status,
    ).toBe(412);
    expect((await call('GET', '/v2/devices/sw-1')).body.status).toBe('ACTIVE');

    const report = await service.sweepNow();
    expect(report.reevaluated).toBeGreaterThanOrEqual(1);
    expect((await call('GET', '/v2/devices/sw-1')).body.status).toBe('RENEWAL_PENDING');
    const list = await call('GET', '/v2/dms');
    expect(list.body).toEqual({ next: '', list: [expect.objectContaining({ id: 'dms-sweep', version: 1 })] });
    expect((await call('GET', '/v2/dms/bad id')).status).toBe(400);
  });

  it('lists sort and filter by identity.expiration_date', async () => {
    const r = await call(
      'GET',
      `/v2/devices?filter=identity.expiration_date[af]${new Date().toISOString()}&sort_by=identity.expiration_date`,
    );
    expect(r.status).toBe(200);
    const dates = r.body.list.map((d: { identity: { expiration_date: string } }) => d.identity.expiration_date);
    expect(dates.length).toBeGreaterThan(0);
    expect([...dates].sort()).toEqual(dates);
  });
});
