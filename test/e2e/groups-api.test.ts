/**
 * Device groups end to end over HTTP: the local service (embedded engine + real handlers behind the
 * API Gateway event adapter), every group route and its documented errors.
 */
import { DEVICE_STATUSES } from '../../functions/domain/device';
import type { LocalService } from '../../local/main';
import { call, type Reply, startTestService } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService({ GROUP_MAX_DEPTH: '4' });
});
afterAll(async () => {
  await service.stop();
});

/** A non-2xx reply, thrown so that expected errors read `await expect(send(...)).rejects…`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(`${status} ${body?.code}: ${body?.err}`);
    this.name = 'HttpError';
  }
}

async function send(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const reply = await call(service.url, method, path, body, headers);
  if (reply.status >= 400) throw new HttpError(reply.status, reply.body);
  return reply;
}

const ids = (list: { id: string }[]) => list.map((d) => d.id);
const crit = (field: string, operand: string, value: string) => ({ field, operand, value });

/** Follows `next` until it is empty; returns every page. */
async function pages(path: string): Promise<{ id: string; status: string }[][]> {
  const out: { id: string; status: string }[][] = [];
  let next = '';
  do {
    const r = await send(
      'GET',
      `${path}${path.includes('?') ? '&' : '?'}${next ? `bookmark=${encodeURIComponent(next)}` : ''}`,
    );
    expect(r.status).toBe(200);
    out.push(r.body.list);
    next = r.body.next;
  } while (next !== '' && out.length < 100);
  return out;
}

// Fleet: dev-00 … dev-11. dms-a for even numbers, dms-b for odd; tag eu below 6, us from 6;
// tag sensor every third; dev-00 and dev-04 decommissioned.
const fleet = Array.from({ length: 12 }, (_, i) => ({
  id: `dev-${String(i).padStart(2, '0')}`,
  dms_id: i % 2 === 0 ? 'dms-a' : 'dms-b',
  tags: [i < 6 ? 'eu' : 'us', ...(i % 3 === 0 ? ['sensor'] : [])],
  metadata: { n: i },
}));
const DECOMMISSIONED = ['dev-00', 'dev-04'];

beforeAll(async () => {
  for (const d of fleet) expect((await send('POST', '/v2/devices', d)).status).toBe(201);
  for (const id of DECOMMISSIONED) expect((await send('DELETE', `/v2/devices/${id}`)).status).toBe(200);
});

describe('create and read', () => {
  it('creates a root group: 201, ETag, Location, contract shape with parent_id null', async () => {
    const r = await send('POST', '/v2/device-groups', {
      id: 'fleet-a',
      name: 'Fleet A',
      criteria: [crit('dms_owner', 'eq', 'dms-a')],
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.headers.get('location')).toBe('/v2/device-groups/fleet-a');
    expect(r.body).toEqual({
      id: 'fleet-a',
      name: 'Fleet A',
      description: '',
      parent_id: null,
      criteria: [crit('dms_owner', 'eq', 'dms-a')],
      inherited_criteria: [],
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      updated_at: r.body.created_at,
      version: 1,
    });
    const get = await send('GET', '/v2/device-groups/fleet-a');
    expect(get.headers.get('etag')).toBe('"1"');
    expect(get.body).toEqual(r.body);
  });

  it('creates a child and a three-level chain; inherited_criteria are the ancestors\u2019, root first', async () => {
    const child = await send('POST', '/v2/device-groups', {
      id: 'a-eu',
      name: 'Fleet A EU',
      parent_id: 'fleet-a',
      criteria: [crit('tags', 'ct', 'eu')],
    });
    expect(child.body).toMatchObject({ parent_id: 'fleet-a', inherited_criteria: [crit('dms_owner', 'eq', 'dms-a')] });
    const leaf = await send('POST', '/v2/device-groups', {
      id: 'a-eu-live',
      name: 'Fleet A EU live',
      description: 'in service',
      parent_id: 'a-eu',
      criteria: [crit('status', 'ne', 'DECOMMISSIONED')],
    });
    expect(leaf.status).toBe(201);
    expect(leaf.body).toMatchObject({
      parent_id: 'a-eu',
      description: 'in service',
      criteria: [crit('status', 'ne', 'DECOMMISSIONED')],
      inherited_criteria: [crit('dms_owner', 'eq', 'dms-a'), crit('tags', 'ct', 'eu')],
    });
    const sensors = await send('POST', '/v2/device-groups', {
      name: 'Sensors',
      criteria: [crit('tags', 'ct', 'sensor')],
    });
    expect(sensors.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await send('GET', `/v2/device-groups/${sensors.body.id}`)).body.name).toBe('Sensors');
  });

  it('409 on a duplicate name (any case) or id; 404 for a missing parent or group; nothing is created', async () => {
    await expect(send('POST', '/v2/device-groups', { id: 'dup', name: 'fleet A', criteria: [] })).rejects.toThrow(
      /^409 GROUP_NAME_TAKEN/,
    );
    await expect(send('POST', '/v2/device-groups', { id: 'fleet-a', name: 'Another', criteria: [] })).rejects.toThrow(
      /^409 GROUP_ALREADY_EXISTS/,
    );
    await expect(
      send('POST', '/v2/device-groups', { id: 'orphan', name: 'Orphan', parent_id: 'nope', criteria: [] }),
    ).rejects.toThrow(/^404 PARENT_GROUP_NOT_FOUND/);
    await expect(send('GET', '/v2/device-groups/dup')).rejects.toThrow(/^404 GROUP_NOT_FOUND/);
    await expect(send('GET', '/v2/device-groups/orphan')).rejects.toThrow(/^404 GROUP_NOT_FOUND/);
    await expect(send('GET', '/v2/device-groups/%25bad')).rejects.toThrow(/^404 GROUP_NOT_FOUND/);
  });

  it('400 for an invalid criterion, naming criteria[i]; 400 for invalid fields; 415 for a wrong type', async () => {
    const bad = {
      id: 'bad',
      name: 'Bad',
      criteria: [
        crit('tags', 'ct', 'eu'),
        crit('dms_owner', 'eq', 'x'),
        crit('colour', 'eq', 'red'),
        crit('status', 'gt', 'ACTIVE'),
      ],
    };
    await expect(send('POST', '/v2/device-groups', bad)).rejects.toMatchObject({
      status: 400,
      body: {
        code: 'VALIDATION_ERROR',
        details: [
          { field: 'criteria[2]', problem: "unknown field 'colour'" },
          { field: 'criteria[3]', problem: "unknown operator 'gt' for field 'status'" },
        ],
      },
    });
    await expect(
      send('POST', '/v2/device-groups', {
        id: 'bad id!',
        name: ' x',
        criteria: [{ field: 'id', operand: 'eq', value: 1 }],
      }),
    ).rejects.toMatchObject({
      status: 400,
      body: {
        details: expect.arrayContaining([
          expect.objectContaining({ field: 'id' }),
          expect.objectContaining({ field: 'name' }),
          expect.objectContaining({ field: 'criteria[0].value' }),
        ]),
      },
    });
    await expect(send('POST', '/v2/device-groups', '{}', { 'content-type': 'text/plain' })).rejects.toThrow(/^415/);
    await expect(send('GET', '/v2/device-groups/bad')).rejects.toThrow(/^404/);
  });

  it('lists groups by id with page_size and bookmark', async () => {
    const all = (await pages('/v2/device-groups?page_size=2')).flat();
    expect(all.length).toBe(4);
    expect(ids(all)).toEqual([...ids(all)].sort());
    expect(ids(all)).toEqual(expect.arrayContaining(['a-eu', 'a-eu-live', 'fleet-a']));
    await expect(send('GET', '/v2/device-groups?page_size=0')).rejects.toThrow(/^400/);
    await expect(send('GET', '/v2/device-groups?bookmark=forged.mac')).rejects.toThrow(/^400 INVALID_BOOKMARK/);
  });
});

describe('members and statistics', () => {
  it('members match the ancestors\u2019 criteria AND their own; groups intersect', async () => {
    expect(ids((await pages('/v2/device-groups/fleet-a/devices?sort_by=id')).flat())).toEqual([
      'dev-00',
      'dev-02',
      'dev-04',
      'dev-06',
      'dev-08',
      'dev-10',
    ]);
    expect(ids((await pages('/v2/device-groups/a-eu/devices?sort_by=id')).flat())).toEqual([
      'dev-00',
      'dev-02',
      'dev-04',
    ]);
    expect(ids((await pages('/v2/device-groups/a-eu-live/devices?sort_by=id')).flat())).toEqual(['dev-02']);
    const sensors = (await send('GET', '/v2/device-groups?page_size=100')).body.list.find(
      (g: { name: string }) => g.name === 'Sensors',
    );
    const sensorMembers = ids((await pages(`/v2/device-groups/${sensors.id}/devices?sort_by=id`)).flat());
    expect(sensorMembers).toEqual(['dev-00', 'dev-03', 'dev-06', 'dev-09']);
    // Intersection of a child (a-eu) and another root (Sensors): dev-00 alone.
    const aEu = ids((await pages('/v2/device-groups/a-eu/devices')).flat());
    expect(aEu.filter((id) => sensorMembers.includes(id))).toEqual(['dev-00']);
  });

  it('pages members with page_size 2 and the request filters, sorted as asked', async () => {
    const all = await pages('/v2/device-groups/fleet-a/devices?page_size=2&sort_by=id&sort_mode=desc');
    expect(all.map((p) => p.length)).toEqual([2, 2, 2]);
    expect(ids(all.flat())).toEqual(['dev-10', 'dev-08', 'dev-06', 'dev-04', 'dev-02', 'dev-00']);
    const filtered = await pages(
      '/v2/device-groups/fleet-a/devices?page_size=2&filter=metadata.n[ge]4&filter=tags[ct]us',
    );
    expect(ids(filtered.flat()).sort()).toEqual(['dev-06', 'dev-08', 'dev-10']);
    await expect(send('GET', '/v2/device-groups/fleet-a/devices?filter=colour[eq]x')).rejects.toMatchObject({
      status: 400,
      body: { details: [{ field: 'filter[0]' }] },
    });
    await expect(send('GET', '/v2/device-groups/nope/devices')).rejects.toThrow(/^404 GROUP_NOT_FOUND/);
  });

  it('stats of a child equal its members counted per status; status criteria are allowed', async () => {
    for (const group of ['fleet-a', 'a-eu', 'a-eu-live']) {
      const members = (await pages(`/v2/device-groups/${group}/devices?page_size=2`)).flat();
      const expected = Object.fromEntries(
        DEVICE_STATUSES.map((s) => [s, members.filter((d) => d.status === s).length]),
      );
      const r = await send('GET', `/v2/device-groups/${group}/stats`);
      expect(r.body).toEqual({
        total: members.length,
        status_distribution: expected,
        consistent_as_of: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      });
    }
    expect((await send('GET', '/v2/device-groups/a-eu/stats')).body).toMatchObject({
      total: 3,
      status_distribution: {
        NO_IDENTITY: 1,
        ACTIVE: 0,
        RENEWAL_PENDING: 0,
        EXPIRING_SOON: 0,
        EXPIRED: 0,
        REVOKED: 0,
        DECOMMISSIONED: 2,
      },
    });
    expect((await send('GET', '/v2/device-groups/a-eu/stats?filter=status[eq]DECOMMISSIONED')).body.total).toBe(2);
    await expect(send('GET', '/v2/stats/devices?filter=status[eq]ACTIVE')).rejects.toThrow(/^400/);
    await expect(send('GET', '/v2/device-groups/nope/stats')).rejects.toThrow(/^404/);
  });
});

describe('replace', () => {
  it('PUT replaces with a new version and ETag; GET → edit → PUT round-trips; 412 on a stale If-Match', async () => {
    const current = (await send('GET', '/v2/device-groups/a-eu')).body;
    const r = await send(
      'PUT',
      '/v2/device-groups/a-eu',
      { ...current, description: 'EU plants' },
      { 'if-match': '"1"' },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe('"2"');
    expect(r.body).toMatchObject({
      id: 'a-eu',
      description: 'EU plants',
      version: 2,
      parent_id: 'fleet-a',
      created_at: current.created_at,
    });
    await expect(
      send(
        'PUT',
        '/v2/device-groups/a-eu',
        { name: 'Changed', parent_id: 'fleet-a', criteria: [] },
        { 'if-match': '"1"' },
      ),
    ).rejects.toThrow(/^412 VERSION_MISMATCH/);
    await expect(send('DELETE', '/v2/device-groups/a-eu-live', undefined, { 'if-match': '"7"' })).rejects.toThrow(
      /^412/,
    );
    expect((await send('GET', '/v2/device-groups/a-eu')).body).toEqual(r.body);
    await expect(send('PUT', '/v2/device-groups/a-eu', { ...current, id: 'other' })).rejects.toMatchObject({
      status: 400,
      body: { details: [{ field: 'id' }] },
    });
    await expect(send('PUT', '/v2/device-groups/a-eu', { ...current, name: 'Fleet A' })).rejects.toThrow(
      /^409 GROUP_NAME_TAKEN/,
    );
    await expect(send('PUT', '/v2/device-groups/nope', { name: 'x', criteria: [] })).rejects.toThrow(
      /^404 GROUP_NOT_FOUND/,
    );
  });

  it(
    're-parenting into a cycle is 400 naming parent_id; a missing ' + 'parent 404; beyond GROUP_MAX_DEPTH 400',
    async () => {
      const root = (await send('GET', '/v2/device-groups/fleet-a')).body;
      await expect(send('PUT', '/v2/device-groups/fleet-a', { ...root, parent_id: 'a-eu-live' })).rejects.toMatchObject(
        {
          status: 400,
          body: { details: [{ field: 'parent_id' }] },
        },
      );
      await expect(send('PUT', '/v2/device-groups/fleet-a', { ...root, parent_id: 'fleet-a' })).rejects.toThrow(/^400/);
      await expect(send('PUT', '/v2/device-groups/fleet-a', { ...root, parent_id: 'nope' })).rejects.toThrow(
        /^404 PARENT_GROUP_NOT_FOUND/,
      );
      expect(
        (
          await send('POST', '/v2/device-groups', {
            id: 'level-4',
            name: 'Level 4',
            parent_id: 'a-eu-live',
            criteria: [],
          })
        ).status,
      ).toBe(201);
      await expect(
        send('POST', '/v2/device-groups', { id: 'level-5', name: 'Level 5', parent_id: 'level-4', criteria: [] }),
      ).rejects.toMatchObject({ status: 400, body: { details: [{ field: 'parent_id' }] } });
      expect((await send('GET', '/v2/device-groups/fleet-a')).body).toEqual(root);
    },
  );

  it('moving a child to another parent changes its inherited criteria and members', async () => {
    const eu = (await send('POST', '/v2/device-groups', { id: 'eu', name: 'EU', criteria: [crit('tags', 'ct', 'eu')] }))
      .body;
    const b = (
      await send('POST', '/v2/device-groups', {
        id: 'b',
        name: 'Fleet B',
        parent_id: 'eu',
        criteria: [crit('dms_owner', 'eq', 'dms-b')],
      })
    ).body;
    expect(ids((await pages('/v2/device-groups/b/devices?sort_by=id')).flat())).toEqual(['dev-01', 'dev-03', 'dev-05']);
    const moved = await send('PUT', '/v2/device-groups/b', { ...b, parent_id: null });
    expect(moved.body).toMatchObject({ parent_id: null, inherited_criteria: [], version: 2 });
    expect(ids((await pages('/v2/device-groups/b/devices?sort_by=id')).flat())).toEqual([
      'dev-01',
      'dev-03',
      'dev-05',
      'dev-07',
      'dev-09',
      'dev-11',
    ]);
    expect(eu.version).toBe(1);
  });
});

describe('delete', () => {
  it('409 for a group with children; ?cascade=true deletes the subtree (204); a leaf deletes alone', async () => {
    await expect(send('DELETE', '/v2/device-groups/fleet-a')).rejects.toThrow(/^409 GROUP_HAS_CHILDREN/);
    await expect(send('DELETE', '/v2/device-groups/fleet-a?cascade=false')).rejects.toThrow(/^409/);
    await expect(send('DELETE', '/v2/device-groups/fleet-a?cascade=yes')).rejects.toMatchObject({
      status: 400,
      body: { details: [{ field: 'cascade' }] },
    });
    expect((await send('GET', '/v2/device-groups/a-eu-live')).status).toBe(200);

    const leaf = await send('DELETE', '/v2/device-groups/b', undefined, { 'if-match': '"2"' });
    expect(leaf.status).toBe(204);
    expect(leaf.body).toBeUndefined();
    await expect(send('GET', '/v2/device-groups/b')).rejects.toThrow(/^404/);

    const cascade = await send('DELETE', '/v2/device-groups/fleet-a?cascade=true');
    expect(cascade.status).toBe(204);
    for (const id of ['fleet-a', 'a-eu', 'a-eu-live', 'level-4'])
      await expect(send('GET', `/v2/device-groups/${id}`)).rejects.toThrow(/^404/);
    await expect(send('DELETE', '/v2/device-groups/fleet-a?cascade=true')).rejects.toThrow(/^404/);
    const left = (await pages('/v2/device-groups?page_size=2')).flat();
    expect(left.map((g) => g.id)).toContain('eu');
    expect(left.map((g) => g.id)).not.toContain('a-eu');
    // Devices are untouched, and the names are free again.
    expect((await send('GET', '/v2/devices/dev-02')).status).toBe(200);
    expect((await send('POST', '/v2/device-groups', { id: 'fleet-a', name: 'FLEET A', criteria: [] })).status).toBe(
      201,
    );
  });
});

describe('OpenAPI', () => {
  it('documents every group route and the group schemas', async () => {
    const doc = (await send('GET', '/v2/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v2/device-groups',
        '/v2/device-groups/{id}',
        '/v2/device-groups/{id}/devices',
        '/v2/device-groups/{id}/stats',
      ]),
    );
    expect(Object.keys(doc.paths['/v2/device-groups/{id}'])).toEqual(expect.arrayContaining(['get', 'put', 'delete']));
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'DeviceGroup',
        'CreateDeviceGroup',
        'ReplaceDeviceGroup',
        'GroupCriterion',
        'DeviceGroupList',
      ]),
    );
    expect(doc.components.schemas.DeviceGroup.properties.parent_id.type).toEqual(['string', 'null']);
  });
});
