/**
 * Adversarial requests a `devices:read` (or `devices:write`) caller can send, against the local
 * service: each must get a bounded answer, a 4xx for bad input, never a 5xx. Cost bounds are
 * asserted by budgets (bytes, budgets reported in the errors), never by time: the timings are
 * bench:hostile's.
 */
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import {
  bulkyMetadata,
  branchyMetadata,
  brokenCertificates,
  deepJsonText,
  HOSTILE_JSONPATHS,
  pemArmor,
} from '../support/hostile';
import { call as request, startTestService } from '../support/http';

const V1 = '/api/devmanager/v1';
const BYTE_BUDGET = 100_000;
let service: LocalService;
const call = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(service.url, method, route, body, headers);
const q = (expression: string) => encodeURIComponent(`metadata[jsonpath]${expression}`);

beforeAll(async () => {
  service = await startTestService({
    LIST_BYTE_BUDGET: String(BYTE_BUDGET),
    STATS_READ_BYTE_BUDGET: String(BYTE_BUDGET),
  });
  // 20 devices of about 11 KB (dms-big), 5 with branchy metadata (dms-branchy).
  for (let i = 0; i < 20; i++) {
    const r = await call('POST', '/v2/devices', {
      id: `big-${String(i).padStart(2, '0')}`,
      dms_id: 'dms-big',
      tags: ['big'],
      metadata: bulkyMetadata(11_000, { n: i }),
    });
    expect(r.status).toBe(201);
  }
  for (let i = 0; i < 5; i++)
    expect(
      (await call('POST', '/v2/devices', { id: `branchy-${i}`, dms_id: 'dms-branchy', metadata: branchyMetadata() }))
        .status,
    ).toBe(201);
  const group = await call('POST', `${V1}/device-groups`, {
    name: 'big ones',
    criteria: [{ field: 'tags', operand: 'contains', value: 'big' }],
  });
  expect(group.status).toBe(201);
  groupId = group.body.id;
}, 120_000);
afterAll(async () => {
  await service?.stop();
});
let groupId: string;

describe('JSONPath filters are parsed, refused or budgeted', () => {
  // Group statistics take no filter (as in Lamassu): the four routes that evaluate JSONPath.
  const routes = () => [
    `${V1}/devices`,
    `${V1}/devices/dms/dms-branchy`,
    `${V1}/device-groups/${groupId}/devices`,
    `${V1}/stats`,
  ];
  it.each(HOSTILE_JSONPATHS.map((h) => [h.name, h] as const))('%s', async (_, h) => {
    for (const route of routes()) {
      const r = await call('GET', `${route}?filter=${q(h.expression)}&page_size=100`);
      // Routes whose devices all lack the nodes a path walks may answer 200 within the budget.
      if (h.status === 422 && r.status === 200) continue;
      expect({ route, status: r.status }).toEqual({ route, status: h.status });
      if (h.status === 400) expect(JSON.stringify(r.body.details)).toMatch(/filter\[0\]/);
      if (h.status === 422)
        expect(r.body).toMatchObject({
          code: 'QUERY_TOO_BROAD',
          err: expect.stringMatching(/metadata\[jsonpath\].*more than \d+/),
        });
    }
  });

  it('the chained descendants reach the budget on the devices that have the nodes', async () => {
    const r = await call('GET', `${V1}/devices/dms/dms-branchy?filter=${q(`$${'..*'.repeat(12)}`)}`);
    expect(r.status).toBe(422);
    expect(r.body.err).toMatch(/visited more than 1000000 nodes|held more than 10000 nodes/);
  });

  it('identity_slot[jsonpath] goes through the same engine', async () => {
    const r = await call(
      'GET',
      `${V1}/devices?filter=${encodeURIComponent('identity_slot[jsonpath]$[?match(@.status, "a")]')}`,
    );
    expect(r.status).toBe(400);
  });

  it('the forms Lamassu clients send keep working', async () => {
    const cases: [string, number][] = [
      ['$.n == 3', 1],
      ['$.n < 2', 2],
      ['exists($.t)', 5],
      ['$.t.r[?(@ == 4)]', 5],
      ["$.env == 'prod'", 5],
      ['$[?length(@) > 10000]', 20],
    ];
    for (const [expr, count] of cases) {
      const r = await call('GET', `${V1}/stats?filter=${q(expr)}`);
      expect({ expr, status: r.status, total: r.body.total }).toEqual({ expr, status: 200, total: count });
    }
  });
});

describe('prototype member names are plain unknown names', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('%s', async (name) => {
    // An unknown field is ignored as Lamassu does; an unknown operand of a known field is a 400.
    expect((await call('GET', `${V1}/devices?filter=${name}[eq]x&page_size=1`)).status).toBe(200);
    expect((await call('GET', `${V1}/devices?filter=id[${name}]x`)).status).toBe(400);
    expect((await call('GET', `${V1}/stats?filter=${name}[eq]x`)).status).toBe(200);
    expect((await call('GET', `/v2/devices?filter=${name}[eq]x`)).status).toBe(400);
    for (const criterion of [
      { field: name, operand: 'eq', value: 'x' },
      { field: 'id', operand: name, value: 'x' },
    ]) {
      const r = await call('POST', `${V1}/device-groups`, { name: `g-${name}`, criteria: [criterion] });
      expect({ criterion, status: r.status }).toEqual({ criterion, status: 400 });
      const v2 = await call('POST', '/v2/device-groups', {
        id: `g-${name.replace(/_/g, '')}`,
        name: `g-${name}`,
        criteria: [criterion],
      });
      expect({ criterion, status: v2.status }).toEqual({ criterion, status: 400 });
    }
  });
});

describe('deep JSON is refused before any recursion', () => {
  it('merge patch with metadata nested 5,000 deep', async () => {
    const r = await call('PATCH', '/v2/devices/big-00', `{"metadata":${deepJsonText(5000)}}`, {
      'content-type': 'application/merge-patch+json',
    });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual([{ field: 'metadata', problem: expect.stringMatching(/nests deeper/) }]);
  });

  it('JSON patch and Lamassu metadata updates with the same value', async () => {
    const json = await call(
      'PATCH',
      '/v2/devices/big-00',
      `[{"op":"add","path":"/metadata/x","value":${deepJsonText(5000)}}]`,
      { 'content-type': 'application/json-patch+json' },
    );
    expect(json.status).toBe(400);
    const lamassu = await call(
      'PUT',
      `${V1}/devices/big-00/metadata`,
      `{"patches":[{"op":"add","path":"/x","value":${deepJsonText(5000)}}]}`,
    );
    expect(lamassu.status).toBe(400);
    const create = await call('POST', '/v2/devices', `{"id":"deep","dms_id":"d","metadata":${deepJsonText(5000)}}`);
    expect(create.status).toBe(400);
  });
});

describe('certificates', () => {
  let pem: string;
  beforeAll(async () => {
    pem = (await certificate({ notBefore: '2026-01-15T00:00:00Z', notAfter: '2030-01-01T00:00:00Z' })).pem;
  });

  it('a body of repeated BEGIN lines is a 400 (found in one pass)', async () => {
    const r = await call('PUT', '/v2/devices/big-01/idslot', { certificate: pemArmor(200 * 1024) });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual([{ field: 'certificate', problem: 'no PEM CERTIFICATE block' }]);
  });

  it('unknown key algorithms or curves and invalid times are 400s naming the field', async () => {
    for (const broken of brokenCertificates(pem)) {
      const v2 = await call('PUT', '/v2/devices/big-01/idslot', { certificate: broken.pem });
      expect({ name: broken.name, status: v2.status }).toEqual({ name: broken.name, status: 400 });
      expect(v2.body.details[0]).toEqual({ field: 'certificate', problem: expect.stringMatching(broken.problem) });
      const v1 = await call('PUT', `${V1}/devices/big-01/idslot`, { versions: { '0': broken.pem } });
      expect({ name: broken.name, status: v1.status < 500 }).toEqual({ name: broken.name, status: true });
    }
  });
});

describe('pages stay under the response byte budget', () => {
  async function walk(first: string, nextUrl: (next: string) => string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let url = first;
    let pages = 0;
    for (;;) {
      const r = await call('GET', url);
      expect(r.status).toBe(200);
      const list = r.body.list as { id: string }[];
      // The page's devices, serialized, fit the budget (a device is about 11 KB, the budget 100 KB).
      expect(Buffer.byteLength(JSON.stringify(list))).toBeLessThanOrEqual(BYTE_BUDGET + 1000);
      ids.push(...list.map((d) => d.id));
      pages++;
      if (!r.body.next) return { ids, pages };
      url = nextUrl(r.body.next);
    }
  }
  const expected = Array.from({ length: 20 }, (_, i) => `big-${String(i).padStart(2, '0')}`);

  it('GET /v2/devices?page_size=1000', async () => {
    const { ids, pages } = await walk(
      '/v2/devices?page_size=1000&filter=tags[ct]big&sort_by=id',
      (n) => `/v2/devices?page_size=1000&filter=tags[ct]big&sort_by=id&bookmark=${encodeURIComponent(n)}`,
    );
    expect(ids).toEqual(expected);
    expect(pages).toBeGreaterThan(2);
  });

  it.each([
    ['/devices/dms/{id}', () => `${V1}/devices/dms/dms-big?page_size=1000&sort_by=id`],
    ['/device-groups/{id}/devices', () => `${V1}/device-groups/${groupId}/devices?page_size=1000&sort_by=id`],
    ['/devices with a JSONPath filter', () => `${V1}/devices?page_size=1000&sort_by=id&filter=${q('$.n >= 0')}`],
    [
      '/devices sorted in memory',
      () =>
        `${V1}/devices?page_size=1000&sort_by=` +
        `${encodeURIComponent('metadata[jsonpath]$.n')}&filter=dms_owner[eq]dms-big`,
    ],
  ])('Lamassu %s', async (_, first) => {
    const url = first();
    const { ids, pages } = await walk(url, (n) => `${url.split('?')[0]}?bookmark=${encodeURIComponent(n)}`);
    expect([...ids].sort()).toEqual(expected);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBeGreaterThan(2);
  });

  it('statistics that read more bytes than their budget are 422 QUERY_TOO_BROAD', async () => {
    const r = await call('GET', '/v2/stats/devices?filter=metadata.n[ge]0');
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('QUERY_TOO_BROAD');
    const small = await call('GET', '/v2/stats/devices?filter=metadata.env[eq]"prod"');
    expect(small.status).toBe(422); // the big devices are read too before they can be excluded
  });
});
