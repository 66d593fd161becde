/**
 * End to end over HTTP: the local service (embedded engine + real handlers behind the API Gateway
 * event adapter) started by the test run, every route and every documented error status.
 */
import { HTTP_ROUTES } from '../../functions/http/routes';
import type { LocalService } from '../../local/main';
import { call as request, type Reply, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service.stop();
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(service.url, method, path, body, headers);

const expectError = (reply: Reply, status: number, code: string) => {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual(expect.objectContaining({ err: expect.any(String), code }));
};

describe('POST /v2/devices', () => {
  it('registers a device: 201, ETag, Location, contract shape', async () => {
    const r = await call('POST', '/v2/devices', {
      id: 'device-001',
      dms_id: 'dms-factory-1',
      tags: ['line-3', 'sensor'],
      metadata: { firmware_version: '1.4.2' },
      icon: 'chip',
      icon_color: '#25ee32',
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.headers.get('location')).toBe('/v2/devices/device-001');
    expect(r.body).toEqual({
      id: 'device-001',
      tags: ['line-3', 'sensor'],
      status: 'NO_IDENTITY',
      icon: 'chip',
      icon_color: '#25ee32',
      creation_timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      metadata: { firmware_version: '1.4.2' },
      dms_owner: 'dms-factory-1',
      slots: {},
      events: { [r.body.creation_timestamp]: { type: 'CREATED', description: 'Device created' } },
      version: 1,
    });
  });

  it('409 on a duplicate id', async () =>
    expectError(await call('POST', '/v2/devices', { id: 'device-001', dms_id: 'x' }), 409, 'DEVICE_ALREADY_EXISTS'));

  it('400 with details naming each invalid field', async () => {
    const r = await call('POST', '/v2/devices', { id: 'bad id!', tags: 'x', color: 1 });
    expectError(r, 400, 'VALIDATION_ERROR');
    expect(r.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['color', 'dms_id', 'id', 'tags']);
  });

  it('400 on malformed JSON, 415 on a wrong content type, 413 over 256 KiB', async () => {
    expectError(await call('POST', '/v2/devices', '{"id":', {}), 400, 'MALFORMED_REQUEST');
    expectError(
      await call('POST', '/v2/devices', '{}', { 'content-type': 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const big = { id: 'big', dms_id: 'd', metadata: { blob: 'x'.repeat(256 * 1024) } };
    expectError(await call('POST', '/v2/devices', big), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await call('GET', '/v2/devices/big'), 404, 'DEVICE_NOT_FOUND');
  });
});

describe('GET /v2/devices/{id}', () => {
  it('200 with ETag; 404 for an unknown or impossible id', async () => {
    const r = await call('GET', '/v2/devices/device-001');
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.body.id).toBe('device-001');
    expectError(await call('GET', '/v2/devices/unknown'), 404, 'DEVICE_NOT_FOUND');
    expectError(await call('GET', '/v2/devices/%25bad'), 404, 'DEVICE_NOT_FOUND');
  });
});

describe('PATCH /v2/devices/{id}', () => {
  it('applies a merge patch (event SHADOW-UPDATED) and a JSON patch', async () => {
    const merge = await call(
      'PATCH',
      '/v2/devices/device-001',
      { metadata: { location: 'Building-A' }, tags: ['line-3'] },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(merge.status).toBe(200);
    expect(merge.body).toMatchObject({
      tags: ['line-3'],
      metadata: { firmware_version: '1.4.2', location: 'Building-A' },
      version: 2,
    });
    expect(Object.values(merge.body.events)).toContainEqual({
      type: 'SHADOW-UPDATED',
      description: 'Updated tags, metadata',
    });
    expect(merge.headers.get('etag')).toBe('"2"');
    const json = await call('PATCH', '/v2/devices/device-001', [{ op: 'add', path: '/tags/-', value: 'eu' }], {
      'content-type': 'application/json-patch+json',
      'if-match': '"2"',
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ tags: ['line-3', 'eu'], version: 3 });
  });

  it('412 on a stale If-Match, and nothing changes', async () => {
    const r = await call(
      'PATCH',
      '/v2/devices/device-001',
      { icon: 'other' },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"1"' },
    );
    expectError(r, 412, 'VERSION_MISMATCH');
    expect((await call('GET', '/v2/devices/device-001')).body).toMatchObject({ icon: 'chip', version: 3 });
  });

  it('415 for application/json, 400 for a non-patchable field, 404 for an unknown device', async () => {
    expectError(await call('PATCH', '/v2/devices/device-001', { icon: 'x' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const r = await call(
      'PATCH',
      '/v2/devices/device-001',
      { status: 'ACTIVE' },
      { 'content-type': 'application/merge-patch+json' },
    );
    expectError(r, 400, 'VALIDATION_ERROR');
    expect(r.body.details).toEqual([{ field: 'status', problem: 'not patchable' }]);
    expectError(
      await call('PATCH', '/v2/devices/nope', { icon: 'x' }, { 'content-type': 'application/merge-patch+json' }),
      404,
      'DEVICE_NOT_FOUND',
    );
    expectError(
      await call(
        'PATCH',
        '/v2/devices/device-001',
        { icon: 'x' },
        { 'content-type': 'application/merge-patch+json', 'if-match': 'nope' },
      ),
      400,
      'VALIDATION_ERROR',
    );
  });
});

describe('GET /v2/devices (filters, sort, pagination)', () => {
  beforeAll(async () => {
    for (let i = 0; i < 9; i++) {
      const r = await call('POST', '/v2/devices', {
        id: `fleet-${i}`,
        dms_id: i % 2 ? 'dms-odd' : 'dms-even',
        tags: i % 3 === 0 ? ['triple'] : [],
        metadata: { n: i },
      });
      expect(r.status).toBe(201);
    }
  });

  it('pages with a bookmark until next is empty', async () => {
    const seen: string[] = [];
    let next = '';
    let pages = 0;
    do {
      const r = await call(
        'GET',
        `/v2/devices?filter=dms_owner[in]dms-odd,dms-even&sort_by=id&sort_mode=desc&page_size=2` +
          `${next ? `&bookmark=${encodeURIComponent(next)}` : ''}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.list.map((d: { id: string }) => d.id));
      next = r.body.next;
      pages++;
    } while (next !== '');
    expect(seen).toEqual(Array.from({ length: 9 }, (_, i) => `fleet-${8 - i}`));
    expect(pages).toBe(5);
  });

  it('ANDs repeated filters (indexed tag + metadata)', async () => {
    const r = await call('GET', '/v2/devices?filter=tags[ct]triple&filter=metadata.n[gt]2&sort_by=id');
    expect(r.body).toEqual({
      next: '',
      list: [expect.objectContaining({ id: 'fleet-3' }), expect.objectContaining({ id: 'fleet-6' })],
    });
  });

  it('400 for an unknown field, operator, wrong value type, page size or a tampered bookmark', async () => {
    const unknownField = await call('GET', '/v2/devices?filter=colour[eq]red');
    expectError(unknownField, 400, 'VALIDATION_ERROR');
    expect(unknownField.body.details).toEqual([{ field: 'filter[0]', problem: "unknown field 'colour'" }]);
    expectError(await call('GET', '/v2/devices?filter=status[gt]ACTIVE'), 400, 'VALIDATION_ERROR');
    expectError(await call('GET', '/v2/devices?filter=creation_timestamp[bf]soon'), 400, 'VALIDATION_ERROR');
    expectError(await call('GET', '/v2/devices?page_size=1001'), 400, 'VALIDATION_ERROR');
    expectError(await call('GET', '/v2/devices?sort_by=colour'), 400, 'VALIDATION_ERROR');
    const page = await call('GET', '/v2/devices?page_size=1');
    const tampered = page.body.next.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
    expectError(
      await call('GET', `/v2/devices?page_size=1&bookmark=${encodeURIComponent(tampered)}`),
      400,
      'INVALID_BOOKMARK',
    );
    expectError(await call('GET', '/v2/devices?bookmark=%7B%22x%22'), 400, 'INVALID_BOOKMARK');
  });
});

describe('DELETE /v2/devices/{id} and history', () => {
  it('decommissions (200), is idempotent, keeps the data, honours If-Match', async () => {
    expectError(await call('DELETE', '/v2/devices/fleet-0', undefined, { 'if-match': '"7"' }), 412, 'VERSION_MISMATCH');
    const r = await call('DELETE', '/v2/devices/fleet-0');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'fleet-0', status: 'DECOMMISSIONED', version: 2 });
    const again = await call('DELETE', '/v2/devices/fleet-0');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(r.body);
    expect((await call('GET', '/v2/devices/fleet-0')).body.status).toBe('DECOMMISSIONED');
    expectError(await call('DELETE', '/v2/devices/nope'), 404, 'DEVICE_NOT_FOUND');
  });

  it('GET events: newest first, paginated, 404 for unknown devices', async () => {
    const r = await call('GET', '/v2/devices/fleet-0/events?page_size=2');
    expect(r.status).toBe(200);
    expect(r.body.list).toEqual([
      {
        timestamp: expect.any(String),
        type: 'STATUS-UPDATED',
        description: "Status updated from 'NO_IDENTITY' to 'DECOMMISSIONED'",
      },
      { timestamp: expect.any(String), type: 'DECOMMISSIONED', description: 'Device decommissioned' },
    ]);
    const rest = await call(
      'GET',
      `/v2/devices/fleet-0/events?page_size=2&bookmark=${encodeURIComponent(r.body.next)}`,
    );
    expect(rest.body).toEqual({ next: '', list: [expect.objectContaining({ type: 'CREATED' })] });
    expectError(await call('GET', '/v2/devices/nope/events'), 404, 'DEVICE_NOT_FOUND');
    expectError(await call('GET', '/v2/devices/fleet-0/events?page_size=0'), 400, 'VALIDATION_ERROR');
  });
});

describe('GET /v2/stats/devices', () => {
  it('counts every status, zeros included, and accepts device filters', async () => {
    const all = await call('GET', '/v2/stats/devices');
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      consistent_as_of: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/),
      total: 10,
      status_distribution: {
        NO_IDENTITY: 9,
        ACTIVE: 0,
        RENEWAL_PENDING: 0,
        EXPIRING_SOON: 0,
        EXPIRED: 0,
        REVOKED: 0,
        DECOMMISSIONED: 1,
      },
    });
    const even = await call('GET', '/v2/stats/devices?filter=dms_owner[eq]dms-even');
    expect(even.body).toMatchObject({ total: 5, status_distribution: { NO_IDENTITY: 4, DECOMMISSIONED: 1 } });
    const tagged = await call('GET', '/v2/stats/devices?filter=tags[ct]triple&filter=dms_owner[eq]dms-odd');
    expect(tagged.body.total).toBe(1);
  });

  it('400 for a status filter', async () =>
    expectError(await call('GET', '/v2/stats/devices?filter=status[eq]ACTIVE'), 400, 'VALIDATION_ERROR'));
});

describe('GET /v2/openapi.json and unknown routes', () => {
  it('documents every route', async () => {
    const r = await call('GET', '/v2/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    for (const route of HTTP_ROUTES) expect(r.body.paths[route.path][route.method.toLowerCase()]).toBeDefined();
    expect(Object.keys(r.body.components.schemas)).toEqual(
      expect.arrayContaining(['Device', 'CreateDevice', 'Error', 'DeviceStats', 'DeviceList']),
    );
  });

  it('404 for an unknown route', async () => expectError(await call('GET', '/v2/nothing'), 404, 'NOT_FOUND'));
});
