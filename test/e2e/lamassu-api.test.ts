/**
 * End to end over HTTP: the Lamassu-compatible edge (/api/devmanager/v1) replaying the requests
 * of Lamassu's Go SDK and RA flows recorded in test/fixtures/lamassu/sdk-flows.json, then the
 * edges around them (PEM binds, bookmarks, query syntax, events).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { call as request, startTestService } from '../support/http';
import fixture from '../fixtures/lamassu/sdk-flows.json';

interface Step {
  name: string;
  request: { method: string; path: string; headers: Record<string, string>; query?: string; body?: unknown };
  response: { status: number; body?: unknown };
}

let service: LocalService;
let dir: string;
let file: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'device-manager-lamassu-'));
  file = path.join(dir, 'events.ndjson');
  service = await startTestService({ LOCAL_EVENTS_FILE: file, LIST_READ_BUDGET: '100', LAMASSU_EVENTS: 'true' });
});
afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(service.url, method, route, body, headers);
const V1 = '/api/devmanager/v1';

describe('Lamassu SDK and RA flows (recorded requests)', () => {
  let next = '';
  it.each((fixture.steps as Step[]).map((s, i) => [`${i + 1}. ${s.name}`, s] as const))('%s', async (_name, step) => {
    const query = step.request.query?.replace('{{next}}', encodeURIComponent(next));
    const target = `${step.request.path}${query ? `?${query}` : ''}`;
    const body = step.request.body === undefined ? undefined : JSON.stringify(step.request.body);
    const reply = await call(step.request.method, target, body, step.request.headers);
    expect({ status: reply.status, body: reply.body }).toMatchObject(step.response);
    if (reply.status >= 400 && reply.body) expect(typeof reply.body.code).toBe('string');
    if (reply.body?.next !== undefined) next = reply.body.next;
  });
});

describe('after the flows', () => {
  it('published device.delete (the device as it was) and kept the v2 surface consistent', async () => {
    await service.events.drain();
    const events = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { 'detail-type': string; source: string; detail: { subject: string; data: any } });
    const mine = events
      .filter((e) => e.detail.subject === 'device/ra-dev-1' && e.source !== 'service/devmanager')
      .map((e) => e['detail-type']);
    // LAMASSU_EVENTS=true: Lamassu's types and source, full devices, and the CA revocation request.
    const lamassu = events.filter((e) => e.source === 'service/devmanager');
    expect(lamassu.filter((e) => e.detail.subject === 'device/ra-dev-1').map((e) => e['detail-type'])).toEqual([
      'device.create',
      'device.identity.update',
      'device.status.update',
      'device.identity.update',
      'device.identity.update',
      'device.metadata.update',
      'device.metadata.update',
      'device.identity.update',
      'device.status.update',
      'device.delete',
    ]);
    const statusUpdate = lamassu.find(
      (e) => e['detail-type'] === 'device.status.update' && e.detail.subject === 'device/ra-dev-1',
    )!;
    expect(statusUpdate.detail.data).toMatchObject({
      previous: { status: 'NO_IDENTITY' },
      updated: { status: 'ACTIVE', identity: { versions: { '0': '0a1b2c3d4e' } } },
    });
    // The RA bound serials by reference only (no PEM, never reported by the CA for this device): the
    // decommission asks the CA to revoke nothing, or any caller could have any certificate revoked.
    expect(
      lamassu.filter((e) => e['detail-type'] === 'ca.certificate.revoke.request').map((e) => e.detail.data),
    ).toEqual([]);
    expect(mine.at(-1)).toBe('device.delete');
    expect(mine).toContain('device.decommission');
    expect(events.find((e) => e['detail-type'] === 'device.delete')!.detail.data).toMatchObject({
      id: 'ra-dev-1',
      status: 'DECOMMISSIONED',
    });
    expect((await call('GET', '/v2/devices/ra-dev-1')).status).toBe(404);
    const stats = await call('GET', `${V1}/stats`);
    expect(stats.body.status_distribution.DECOMMISSIONED).toBe(0);
    // The same id can be registered again after a hard delete.
    expect((await call('POST', `${V1}/devices`, { id: 'ra-dev-1', dms_id: 'dms-ra' })).status).toBe(201);
  });
});

describe('identity slot document', () => {
  beforeAll(async () => {
    expect(
      (
        await call('POST', `${V1}/devices`, {
          id: 'pem-1',
          alias: 'camera',
          tags: null,
          metadata: null,
          dms_id: 'dms-pem',
          icon: '',
          icon_color: '',
          unknown_field: 1,
        })
      ).status,
    ).toBe(201);
  });

  it('binds the PEM when the caller adds it, keeping Lamassu serials and our full version', async () => {
    const { pem } = await certificate({ notAfter: new Date(Date.now() + 400 * 86_400_000), serial: '0c0ffee1' });
    const doc = {
      status: 'ACTIVE',
      active_version: 0,
      type: 'x509',
      versions: { '0': '0c0ffee1' },
      events: {},
      certificate: pem,
    };
    const r = await call('PUT', `${V1}/devices/pem-1/idslot`, doc);
    expect(r.status).toBe(200);
    expect(r.body.identity.versions).toEqual({ '0': '0c0ffee1' });
    expect(r.headers.get('etag')).toBe('"2"');
    const v2 = await call('GET', '/v2/devices/pem-1/slots/identity/versions/0');
    // v2 keeps its own serial form (no leading zero); v1 serves whole bytes.
    expect(v2.body).toMatchObject({
      serial_number: 'c0ffee1',
      certificate: expect.stringContaining('BEGIN CERTIFICATE'),
    });
  });

  it('400 naming the field: a PEM of another serial, a missing active serial, no expiration without PEM', async () => {
    const { pem } = await certificate({ notAfter: new Date(Date.now() + 400 * 86_400_000) });
    const other = await call('PUT', `${V1}/devices/pem-1/idslot`, {
      active_version: 1,
      versions: { '1': 'abcdef' },
      certificate: pem,
    });
    expect(other).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_ERROR', details: [{ field: 'certificate' }] },
    });
    const missing = await call('PUT', `${V1}/devices/pem-1/idslot`, {
      active_version: 3,
      versions: { '1': 'abcdef' },
      expiration_date: '2036-01-01T00:00:00Z',
    });
    expect(missing.body.details).toEqual([expect.objectContaining({ field: 'versions.3' })]);
    const noExpiry = await call('PUT', `${V1}/devices/pem-1/idslot`, {
      active_version: 1,
      versions: { '1': 'abcdef' },
    });
    expect(noExpiry.body.details).toEqual([expect.objectContaining({ field: 'expiration_date' })]);
    expect((await call('GET', `${V1}/devices/pem-1`)).body.identity.active_version).toBe(0);
  });

  it('a document marking the active serial REVOKED revokes it; a decommissioned device answers 422', async () => {
    const revoked = await call('PUT', `${V1}/devices/pem-1/idslot`, {
      status: 'REVOKED',
      active_version: 0,
      type: 'x509',
      versions: { '0': '0c0ffee1' },
    });
    expect(revoked.body).toMatchObject({ status: 'REVOKED', identity: { status: 'REVOKED' } });
    expect((await call('DELETE', `${V1}/devices/pem-1/decommission`)).body.status).toBe('DECOMMISSIONED');
    const late = await call('PUT', `${V1}/devices/pem-1/idslot`, {
      active_version: 1,
      versions: { '1': 'abcdef' },
      expiration_date: '2036-01-01T00:00:00Z',
    });
    expect(late).toMatchObject({ status: 422, body: { err: 'device status does not allow this operation' } });
  });

  it(
    'asks the CA to revoke the certificate whose PEM was bound ' + '(and nothing for serials bound by reference)',
    async () => {
      await service.events.drain();
      const requests = readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { 'detail-type': string; detail: { data: unknown } })
        .filter((e) => e['detail-type'] === 'ca.certificate.revoke.request');
      expect(requests.map((e) => e.detail.data)).toEqual([
        { serial_number: '0c0ffee1', status: 'REVOKED', revocation_reason: 'Unspecified', device_id: 'pem-1' },
      ]);
    },
  );
});

describe('query syntax and paging', () => {
  beforeAll(async () => {
    for (let i = 0; i < 5; i++)
      expect(
        (
          await call('POST', `${V1}/devices`, {
            id: `q-${i}`,
            dms_id: 'dms-q',
            metadata: { n: i, nested: { tag: i % 2 ? 'odd' : 'even' } },
          })
        ).status,
      ).toBe(201);
  });

  it('a tampered or foreign bookmark is 400; a v2 bookmark is not a v1 bookmark', async () => {
    const first = await call('GET', `${V1}/devices?filter=dms_owner[eq]dms-q&page_size=2`);
    expect(first.body.next).not.toBe('');
    const tampered = `${first.body.next.slice(0, -3)}${first.body.next.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    expect((await call('GET', `${V1}/devices?bookmark=${encodeURIComponent(tampered)}`)).status).toBe(400);
    const v2 = await call('GET', '/v2/devices?filter=dms_owner[eq]dms-q&page_size=2');
    expect((await call('GET', `${V1}/devices?bookmark=${encodeURIComponent(v2.body.next)}`)).body.code).toBe(
      'INVALID_BOOKMARK',
    );
  });

  it('ignores unknown fields and sorts, refuses an unknown operand of a known field', async () => {
    const r = await call(
      'GET',
      `${V1}/devices?filter=dms_owner[eq]dms-q&filter=colour[eq]red&sort_by=nonsense&page_size=1000`,
    );
    expect(r.body.list.map((d: { id: string }) => d.id)).toEqual(['q-0', 'q-1', 'q-2', 'q-3', 'q-4']);
    const bad = await call('GET', `${V1}/devices?filter=status[contains]ACTIVE`);
    expect(bad).toMatchObject({
      status: 400,
      body: {
        details: [
          {
            field: 'filter[0]',
            problem: expect.stringContaining("invalid filter operand 'contains' for field 'status'"),
          },
        ],
      },
    });
  });

  it('JSONPath filters: existence, predicates, filter expressions; pages continue across reads', async () => {
    const ids = async (q: string) =>
      (await call('GET', `${V1}/devices?filter=dms_owner[eq]dms-q&${q}`)).body.list.map((d: { id: string }) => d.id);
    expect(await ids(`filter=${encodeURIComponent('metadata[jsonpath]$.n >= 3')}`)).toEqual(['q-3', 'q-4']);
    expect(await ids(`filter=${encodeURIComponent('metadata[jsonpath]$.nested.tag == "odd"')}`)).toEqual([
      'q-1',
      'q-3',
    ]);
    expect(await ids(`filter=${encodeURIComponent('metadata[jsonpath]$.missing')}`)).toEqual([]);
    expect(await ids(`filter=${encodeURIComponent('metadata[jsonpath]$[?(@.tag == "even")]')}`)).toEqual([
      'q-0',
      'q-2',
      'q-4',
    ]);
    const page1 = await call(
      'GET',
      `${V1}/devices?filter=dms_owner[eq]dms-q&filter=` +
        `${encodeURIComponent('metadata[jsonpath]$.nested.tag == "even"')}&page_size=2`,
    );
    expect(page1.body.list.map((d: { id: string }) => d.id)).toEqual(['q-0', 'q-2']);
    const page2 = await call('GET', `${V1}/devices?bookmark=${encodeURIComponent(page1.body.next)}&sort_mode=desc`);
    expect(page2.body.list.map((d: { id: string }) => d.id)).toEqual(['q-4']);
    const invalid = await call('GET', `${V1}/devices?filter=${encodeURIComponent('metadata[jsonpath]n == 1')}`);
    expect(invalid.status).toBe(400);
  });

  it('an in-memory sort over more devices than the read budget is 422 QUERY_TOO_BROAD', async () => {
    for (let i = 0; i < 101; i++) await call('POST', `${V1}/devices`, { id: `wide-${i}`, dms_id: 'dms-wide' });
    const r = await call('GET', `${V1}/devices?sort_by=${encodeURIComponent('metadata[jsonpath]$.n')}`);
    expect(r).toMatchObject({ status: 422, body: { code: 'QUERY_TOO_BROAD' } });
    const narrow = await call(
      'GET',
      `${V1}/devices?filter=dms_owner[eq]dms-q&sort_by=` +
        `${encodeURIComponent('metadata[jsonpath]$.n')}&sort_mode=desc&page_size=2`,
    );
    expect(narrow.body.list.map((d: { id: string }) => d.id)).toEqual(['q-4', 'q-3']);
  });
});

it('documents every v1 route in the OpenAPI document, with Lamassu schemas', async () => {
  const doc = (await call('GET', '/v2/openapi.json')).body;
  const v1 = Object.keys(doc.paths).filter((p) => p.startsWith(V1));
  expect(v1.length).toBe(11);
  expect(Object.keys(doc.paths[`${V1}/devices/{id}/metadata`])).toEqual(['put', 'patch']);
  expect(doc.paths[`${V1}/devices/{id}`].get.responses['400'].description).toContain('device not found');
  expect(doc.paths[`${V1}/devices/{id}`].delete.operationId).toBe('lamassuDeleteDevice');
  expect(doc.components.schemas.LamassuSlotDocument.properties.versions).toBeDefined();
});
