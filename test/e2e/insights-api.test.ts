/**
 * Fleet insights over HTTP (docs/api.md, Fleet insights): `GET /v2/stats/metadata/{key}`, `GET /v2/stats/expirations`,
 * counter statistics by indexed metadata, and 422 QUERY_TOO_BROAD (§8).
 */
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { call as request, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService({ INDEXED_METADATA_KEYS: 'firmware_version,location', STATS_READ_BUDGET: '100' });
  await service.sweepNow(); // the start-up sweep back-fills the (empty) indexes: the keys are ready
  for (let i = 0; i < 12; i++) {
    const r = await call('POST', '/v2/devices', {
      id: `dev-${i}`,
      dms_id: i < 6 ? 'dms-a' : 'dms-b',
      metadata: { firmware_version: i < 7 ? '1.4.2' : '1.3.0', location: `B-${i % 2}`, free: i },
    });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  await service.stop();
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(service.url, method, path, body, headers);
const zeros = {
  NO_IDENTITY: 0,
  ACTIVE: 0,
  RENEWAL_PENDING: 0,
  EXPIRING_SOON: 0,
  EXPIRED: 0,
  REVOKED: 0,
  DECOMMISSIONED: 0,
};

describe('GET /v2/stats/metadata/{key}', () => {
  it('gives the values most common first with their status distribution, and other', async () => {
    expect((await call('DELETE', '/v2/devices/dev-0')).status).toBe(200);
    const r = await call('GET', '/v2/stats/metadata/firmware_version?limit=1');
    expect(r.status).toBe(200);
    // The counters follow the stream; locally a statistics request waits for them to include every change.
    expect(Date.parse(r.body.consistent_as_of)).toBeGreaterThan(Date.now() - 60_000);
    expect(r.body).toEqual({
      consistent_as_of: expect.any(String),
      key: 'firmware_version',
      values: [{ value: '"1.4.2"', total: 7, status_distribution: { ...zeros, NO_IDENTITY: 6, DECOMMISSIONED: 1 } }],
      other: 5,
    });
    const all = await call('GET', '/v2/stats/metadata/location');
    expect(all.body.values.map((v: { value: string; total: number }) => [v.value, v.total])).toEqual([
      ['"B-0"', 6],
      ['"B-1"', 6],
    ]);
    expect(all.body.other).toBe(0);
  });

  it('is 400 for a key not indexed and for a bad limit', async () => {
    expect((await call('GET', '/v2/stats/metadata/free')).body).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [{ field: 'key' }],
    });
    expect((await call('GET', '/v2/stats/metadata/location?limit=0')).body).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [{ field: 'limit' }],
    });
    expect((await call('GET', '/v2/stats/metadata/location?limit=1001')).status).toBe(400);
  });
});

describe('GET /v2/stats/devices', () => {
  it('counts an indexed metadata value, and refuses a walk beyond the budget with 422 naming the filter', async () => {
    const indexed = await call('GET', '/v2/stats/devices?filter=metadata.firmware_version[eq]1.3.0');
    expect(indexed.body).toMatchObject({ total: 5, status_distribution: { ...zeros, NO_IDENTITY: 5 } });
    for (let i = 12; i < 120; i++)
      await call('POST', '/v2/devices', { id: `dev-${i}`, dms_id: 'dms-c', metadata: { free: i } });
    const broad = await call('GET', '/v2/stats/devices?filter=metadata.free[gt]3');
    expect(broad.status).toBe(422);
    expect(broad.body).toMatchObject({ code: 'QUERY_TOO_BROAD', err: expect.stringContaining('metadata.free') });
  });
});

describe('GET /v2/stats/expirations', () => {
  it('buckets the active certificates by expiration, weeks from today', async () => {
    const today = new Date();
    const inDays = (n: number) =>
      new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) + n * 86_400_000 + 3_600_000);
    for (const [id, days] of [
      ['dev-1', 10],
      ['dev-2', 10],
      ['dev-7', 40],
    ] as const) {
      const r = await call('PUT', `/v2/devices/${id}/idslot`, {
        certificate: (await certificate({ notAfter: inDays(days) })).pem,
      });
      expect(r.status).toBe(200);
    }
    const r = await call('GET', '/v2/stats/expirations?bucket=day&horizon_days=30');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ bucket: 'day', already_expired: 0, generated_at: expect.stringMatching(/Z$/) });
    expect(r.body.buckets).toHaveLength(30);
    expect(r.body.buckets[10]).toEqual({
      start: inDays(10).toISOString().slice(0, 10) + 'T00:00:00Z',
      end: inDays(11).toISOString().slice(0, 10) + 'T00:00:00Z',
      identity: 2,
      slots: 0,
    });
    const dms = await call('GET', '/v2/stats/expirations?horizon_days=60&filter=dms_owner[eq]dms-b');
    expect(dms.body.bucket).toBe('week');
    expect(dms.body.buckets.reduce((n: number, b: { identity: number }) => n + b.identity, 0)).toBe(1);
  });

  it('is 400 for a bad bucket, horizon or filter', async () => {
    for (const q of ['bucket=year', 'horizon_days=0', 'horizon_days=731', 'filter=tags[ct]x'])
      expect((await call('GET', `/v2/stats/expirations?${q}`)).status).toBe(400);
  });
});

describe('GET /v2/stats/certificates', () => {
  it('counts the identity certificates in service by key and drills down by key', async () => {
    // dev-1, dev-2 and dev-7 hold EC-P256 identities (bound above); one more, then one revoked.
    const notAfter = new Date(Date.now() + 200 * 86_400_000);
    expect(
      (await call('PUT', '/v2/devices/dev-3/idslot', { certificate: (await certificate({ notAfter })).pem })).status,
    ).toBe(200);
    expect((await call('POST', '/v2/devices/dev-7/idslot/revoke', { reason: 'KeyCompromise' })).status).toBe(200);
    const r = await call('GET', '/v2/stats/certificates?by=key');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      by: 'key',
      slot: 'identity',
      counts: { 'EC-P256': 3 },
      total: 3,
      consistent_as_of: expect.any(String),
    });
    const signature = await call('GET', '/v2/stats/certificates?by=signature&slot=identity');
    expect(signature.body.counts).toEqual({ 'ecdsa-with-SHA256': 3 });
    const list = await call('GET', '/v2/devices?filter=identity.key[eq]EC-P256&sort_by=id');
    expect(list.body.list.map((d: { id: string }) => d.id)).toEqual(['dev-1', 'dev-2', 'dev-3']);
    expect(list.body.list[0].identity.crypto).toMatchObject({ key: 'EC-P256', validity: expect.any(String) });
  });

  it('is 400 without a known dimension or with a bad slot name', async () => {
    for (const q of ['', 'by=curve', 'by=key&slot=a%20b']) {
      const r = await call('GET', `/v2/stats/certificates?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('VALIDATION_ERROR');
    }
  });
});
