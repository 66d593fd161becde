/**
 * End to end over HTTP: the device-manager requests of Lamassu's web dashboard
 * (lamassuiot/lamassu-dashboard v4.0.6, commit 77fa224b), built as its source builds them, replayed
 * against the local service, and every response field its device screens read checked. Each test
 * names the dashboard file and lines behind the request and the fields (paths under src/).
 *
 * The dashboard's base URL is `${LAMASSU_API}/devmanager/v1` (lib/api-domains.ts:29), so with
 * `LAMASSU_API = <service>/api` it calls this service's Lamassu edge (docs/lamassu-compatibility.md).
 */
import type { LocalService } from '../../local/main';
import { call, startTestService, type Reply } from '../support/http';

let service: LocalService;
beforeAll(async () => {
  service = await startTestService({ LIST_READ_BUDGET: '100' });
});
afterAll(async () => {
  await service?.stop();
});

// lib/api-domains.ts:3-17 (LAMASSU_API from config.js) and :29.
const LAMASSU_API = () => `${service.url}/api`;
const DEV_MANAGER = () => `${LAMASSU_API()}/devmanager/v1`;
const TOKEN = { Authorization: 'Bearer dashboard-token' };

/** A request to an absolute URL, as the dashboard's fetch calls make them. */
async function dashboard(method: string, url: string, body?: unknown): Promise<Reply> {
  const { origin, pathname, search } = new URL(url);
  return call(
    origin,
    method,
    `${pathname}${search}`,
    body,
    body === undefined ? TOKEN : { ...TOKEN, 'content-type': 'application/json' },
  );
}

/** lib/api-domains.ts:38-53 handleApiError: a failed call shows `err` (or `message`) of the JSON body. */
function dashboardError(reply: Reply, defaultMessage: string): string {
  return reply.body?.err || reply.body?.message
    ? `${defaultMessage}: ${reply.body.err || reply.body.message}`
    : `${defaultMessage}. HTTP error ${reply.status}`;
}

/** lib/devices-api.ts:54-60 fetchDevices, with the URLSearchParams the screens build. */
const fetchDevices = (params: URLSearchParams) => dashboard('GET', `${DEV_MANAGER()}/devices?${params.toString()}`);

/** app/devices/page.tsx:170-194: the list's query (sort, page size, bookmark, filters). */
function listParams(o: {
  sortBy: string;
  sortMode: 'asc' | 'desc';
  pageSize: string;
  bookmark?: string;
  filters?: string[];
}): URLSearchParams {
  const params = new URLSearchParams();
  params.append('sort_by', o.sortBy);
  params.append('sort_mode', o.sortMode);
  params.append('page_size', o.pageSize);
  if (o.bookmark) params.append('bookmark', o.bookmark);
  for (const f of o.filters ?? []) params.append('filter', f);
  return params;
}

/** app/devices/page.tsx:197-206 and :454-475: what a list row reads from each device. */
function expectListRow(device: any) {
  expect(typeof device.id).toBe('string');
  expect(typeof device.icon).toBe('string');
  expect(typeof device.status).toBe('string');
  expect(typeof device.dms_owner).toBe('string');
  expect(Number.isNaN(Date.parse(device.creation_timestamp))).toBe(false);
  expect(Array.isArray(device.tags)).toBe(true);
  // :454 `device.icon_color.split('-')` → [iconColor, bgColor]
  const [iconColor, bgColor] = (device.icon_color as string).split('-');
  expect(iconColor).toMatch(/^#[0-9a-fA-F]{3,8}$/);
  if (bgColor !== undefined) expect(bgColor).toMatch(/^#[0-9a-fA-F]{3,8}$/);
}

const RA = 'ra-factory';
const ids = Array.from({ length: 12 }, (_, i) => `dash-${String(i).padStart(2, '0')}`);

describe("Lamassu dashboard: device screens' requests", () => {
  it(
    'Register New Device (components/devices/RegisterDeviceModal.tsx:156-165 ' +
      '→ lib/devices-api.ts:81-94): 201 with the colour pair',
    async () => {
      for (const [i, id] of ids.entries()) {
        // :161 icon_color `${iconColor}-${iconBgColor}`; :128-130 the default pair when the RA profile has none.
        const icon_color = i % 2 === 0 ? '#0f67ff-#F0F8FF' : '#888888-#e0e0e0';
        const r = await dashboard('POST', `${DEV_MANAGER()}/devices`, {
          id,
          dms_id: i < 10 ? RA : 'ra-lab',
          tags: i % 3 === 0 ? ['line-3'] : [],
          icon: 'Cpu',
          icon_color,
          metadata: {},
        });
        expect(r.status).toBe(201);
        expect(r.body).toMatchObject({
          id,
          icon: 'Cpu',
          icon_color,
          status: 'NO_IDENTITY',
          dms_owner: i < 10 ? RA : 'ra-lab',
        });
      }
      // A refused body shows `err` (lib/devices-api.ts:91-93 → lib/api-domains.ts:44-45).
      const refused = await dashboard('POST', `${DEV_MANAGER()}/devices`, {
        id: 'dash-bad',
        dms_id: RA,
        tags: [],
        icon: 'Cpu',
        icon_color: 'blue-white',
        metadata: {},
      });
      expect(refused.status).toBe(400);
      expect(dashboardError(refused, 'Failed to register device')).toMatch(
        /^Failed to register device: invalid device/,
      );
    },
  );

  it(
    'home status chart (components/home/DeviceStatusChartCard.tsx:64-77, ' +
      'app/page.tsx:99,116 → lib/devices-api.ts:96-101): total and ' +
      'status_distribution',
    async () => {
      const r = await dashboard('GET', `${DEV_MANAGER()}/stats`);
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(12);
      // lib/devices-api.ts:36-44: the seven statuses, each a number (the chart maps every entry).
      expect(Object.keys(r.body.status_distribution).sort()).toEqual([
        'ACTIVE',
        'DECOMMISSIONED',
        'EXPIRED',
        'EXPIRING_SOON',
        'NO_IDENTITY',
        'RENEWAL_PENDING',
        'REVOKED',
      ]);
      expect(r.body.status_distribution.NO_IDENTITY).toBe(12);
    },
  );

  it.each([
    ['id', 'asc'],
    ['id', 'desc'],
    ['status', 'asc'],
    ['dms_owner', 'desc'],
    ['creation_timestamp', 'desc'],
  ] as const)(
    'device list sorted by %s %s (app/devices/page.tsx:171-183, ' +
      ':237-243), page size and bookmark paging (:185-188, :209, ' +
      ':310-320)',
    async (sortBy, sortMode) => {
      const first = await fetchDevices(listParams({ sortBy, sortMode, pageSize: '10' }));
      expect(first.status).toBe(200);
      expect(first.body.list).toHaveLength(10);
      first.body.list.forEach(expectListRow);
      // :209 `data.next` becomes the next page's bookmark; :543 Next is enabled only when it is truthy.
      expect(first.body.next).toBeTruthy();
      // :186-194: page 2 sends the same sort, page size and filters, plus the bookmark.
      const second = await fetchDevices(listParams({ sortBy, sortMode, pageSize: '10', bookmark: first.body.next }));
      expect(second.status).toBe(200);
      second.body.list.forEach(expectListRow);
      expect(second.body.next).toBeFalsy();
      const seen = [...first.body.list, ...second.body.list].map((d: { id: string }) => d.id);
      expect([...seen].sort()).toEqual(ids);
      if (sortBy === 'id') expect(seen).toEqual(sortMode === 'asc' ? ids : [...ids].reverse());
      if (sortBy === 'dms_owner') expect(seen.slice(0, 2).sort()).toEqual(['dash-10', 'dash-11']);
    },
  );

  it(
    'device list filters (app/devices/page.tsx:190-194): DMS link, ' +
      'id or tags search, status; page sizes (:525-528)',
    async () => {
      const ids_ = (r: Reply) => r.body.list.map((d: { id: string }) => d.id).sort();
      const base = { sortBy: 'creation_timestamp', sortMode: 'desc' as const, pageSize: '25' };
      // :118, :191 `dms_owner[equal]` (the RA page's device link)
      expect(ids_(await fetchDevices(listParams({ ...base, filters: ['dms_owner[equal]ra-lab'] })))).toEqual([
        'dash-10',
        'dash-11',
      ]);
      // :192 `${searchField}[contains]${term}` with searchField id or tags
      expect(ids_(await fetchDevices(listParams({ ...base, filters: ['id[contains]h-0'] })))).toEqual(ids.slice(0, 10));
      // tags contain the whole tag, as Lamassu's JSON containment (`tags @> ["line-3"]`) does.
      expect(ids_(await fetchDevices(listParams({ ...base, filters: ['tags[contains]line-3'] })))).toEqual([
        'dash-00',
        'dash-03',
        'dash-06',
        'dash-09',
      ]);
      expect(ids_(await fetchDevices(listParams({ ...base, filters: ['tags[contains]line'] })))).toEqual([]);
      // :193 `status[equal]`
      expect(ids_(await fetchDevices(listParams({ ...base, filters: ['status[equal]ACTIVE'] })))).toEqual([]);
      expect(
        ids_(
          await fetchDevices(listParams({ ...base, filters: ['status[equal]NO_IDENTITY', 'dms_owner[equal]ra-lab'] })),
        ),
      ).toEqual(['dash-10', 'dash-11']);
      for (const pageSize of ['10', '25', '50', '100'])
        expect((await fetchDevices(listParams({ ...base, pageSize }))).body.list).toHaveLength(
          Math.min(12, Number(pageSize)),
        );
    },
  );

  it(
    'EST re-enroll lookup (components/shared/EstReEnrollModal.tsx:126-133, ' +
      ':208-211): one device by id within its RA',
    async () => {
      const params = new URLSearchParams();
      params.append('page_size', '1');
      params.append('filter', 'id[equal]dash-03');
      params.append('filter', `dms_owner[equal]${RA}`);
      const r = await fetchDevices(params);
      expect(r.body.list).toHaveLength(1);
      expectListRow(r.body.list[0]);
      expect(r.body.list[0]).toMatchObject({ id: 'dash-03', icon: 'Cpu', status: 'NO_IDENTITY' });
    },
  );
});

describe("Lamassu dashboard: a device's page through its lifecycle", () => {
  const id = 'dash-00';
  /** app/devices/details/DeviceDetailsClient.tsx:168 → lib/devices-api.ts:62-68 */
  const fetchDeviceById = () => dashboard('GET', `${DEV_MANAGER()}/devices/${id}`);

  /** DeviceDetailsClient.tsx:217-226: device `events` and `identity.events` merged into one timeline, newest first. */
  function timeline(device: any) {
    const merged = [
      ...Object.entries(device.events || {}).map(([ts, e]: [string, any]) => ({
        timestampStr: ts,
        ...e,
        source: 'device',
      })),
      ...Object.entries(device.identity?.events ?? {}).map(([ts, e]: [string, any]) => ({
        timestampStr: ts,
        ...e,
        source: 'identity',
      })),
    ];
    return merged.sort((a, b) => Date.parse(b.timestampStr) - Date.parse(a.timestampStr));
  }

  /** DeviceDetailsClient.tsx:310-321 and :374-385: the certificate serial a timeline event links to. */
  function linkedSerial(device: any, event: { type: string; description: string }): string | undefined {
    let versionToFind: string | null = null;
    if (event.type === 'PROVISIONED') versionToFind = '0';
    else if (
      event.type === 'RENEWED' ||
      (event.type === 'EVENT' && event.description.startsWith('New Active Version'))
    ) {
      const m = event.description.match(/New Active Version set to (\d+)/);
      if (m) versionToFind = m[1]!;
    }
    return versionToFind ? device.identity?.versions[versionToFind] : undefined;
  }

  /** The header and tabs (DeviceDetailsClient.tsx:647-698, :894) read these on every status. */
  function expectHeader(device: any) {
    expect(typeof device.icon).toBe('string'); // :647
    expect(Number.isNaN(Date.parse(device.creation_timestamp))).toBe(false); // :648
    expect((device.icon_color as string).split('-')).toEqual(['#0f67ff', '#F0F8FF']); // :649
    expect(typeof device.status).toBe('string'); // :666, :683, :686
    expect(Array.isArray(device.tags)).toBe(true); // :694-696
    expect(typeof device.metadata).toBe('object'); // :894-896
    expect(device.dms_owner).toBe(RA); // :179-180, :924
    // Timeline React keys are the timestamps (:397): no event may sit in both maps.
    const keys = timeline(device).map((e) => e.timestampStr);
    expect(new Set(keys).size).toBe(keys.length);
  }

  it(
    'a device without identity: header, no history, CREATED in ' +
      'the timeline (DeviceDetailsClient.tsx:171-177, :680)',
    async () => {
      const r = await fetchDeviceById();
      expect(r.status).toBe(200);
      expectHeader(r.body);
      expect(r.body.identity ?? null).toBeNull(); // :171 `data.identity?.versions`; :680 Assign Identity enabled
      // TimelineEventItem.tsx:51
      expect(timeline(r.body).map((e) => [e.type, e.description])).toEqual([['CREATED', '']]);
    },
  );

  it(
    "after the RA's enrollment and a renewal (PUT /idslot as Lamassu's " +
      'RA sends it): history and linked timeline (DeviceDetailsClient.tsx:106-123, ' +
      ':263, :298-398)',
    async () => {
      const slot = (active_version: number, versions: Record<string, string>, latest: string) => ({
        status: 'ACTIVE',
        active_version,
        type: 'x509',
        versions,
        expiration_date: '2031-01-01T00:00:00Z',
        events: { '2026-01-01T00:00:00Z': { type: latest, description: '' } },
      });
      expect(
        (await dashboard('PUT', `${DEV_MANAGER()}/devices/${id}/idslot`, slot(0, { '0': '0a1b' }, 'PROVISIONED')))
          .status,
      ).toBe(200);
      expect(
        (
          await dashboard(
            'PUT',
            `${DEV_MANAGER()}/devices/${id}/idslot`,
            slot(1, { '0': '0a1b', '1': '0c2d' }, 'RENEWED'),
          )
        ).status,
      ).toBe(200);

      const device = (await fetchDeviceById()).body;
      expectHeader(device);
      expect(device.status).toBe('ACTIVE');
      // :110-112 the history lists identity.versions newest first; :263 superseded below active_version.
      expect(device.identity).toMatchObject({
        status: 'ACTIVE',
        active_version: 1,
        versions: { '0': '0a1b', '1': '0c2d' },
      });
      const events = timeline(device);
      expect(events.map((e) => [e.source, e.type, e.description])).toEqual([
        ['identity', 'RENEWED', 'New Active Version set to 1'],
        ['device', 'STATUS-UPDATED', "Status updated from 'NO_IDENTITY' to 'ACTIVE'"], // :391-393 the title
        ['identity', 'PROVISIONED', ''],
        ['device', 'CREATED', ''],
      ]);
      // Each identity event links its certificate by serial (:318-319, :383-385).
      expect(events.map((e) => linkedSerial(device, e))).toEqual(['0c2d', undefined, '0a1b', undefined]);
    },
  );

  it(
    'Force Update (DeviceDetailsClient.tsx:585-590 → lib/devices-api.ts:103-116): ' +
      'the ~1-escaped key lands in metadata, no timeline event',
    async () => {
      const configKey = 'lamassu.io/iot/aws.1010101010.eu-west-1'; // lib/integrations-api.ts:26-41
      const patch = {
        op: 'add',
        path: `/${configKey.replace(/\//g, '~1')}`,
        value: { actions: ['UPDATE_TRUST_ANCHOR_LIST', 'UPDATE_CERTIFICATE'] },
      }; // ForceUpdateModal.tsx:57-61
      const before = timeline((await fetchDeviceById()).body).length;
      const r = await dashboard('PUT', `${DEV_MANAGER()}/devices/${id}/metadata`, { patches: [patch] });
      expect(r.status).toBe(200);
      const device = (await fetchDeviceById()).body;
      expect(device.metadata[configKey]).toEqual({ actions: ['UPDATE_TRUST_ANCHOR_LIST', 'UPDATE_CERTIFICATE'] });
      // Lamassu records no event for a metadata update.
      expect(timeline(device)).toHaveLength(before);
    },
  );

  it(
    'Decommission (DeviceDetailsClient.tsx:531 → lib/devices-api.ts:70-79): ' +
      'DECOMMISSIONED, the identity revoked, Permanently Delete ' +
      'offered (:683-691)',
    async () => {
      const r = await dashboard('DELETE', `${DEV_MANAGER()}/devices/${id}/decommission`);
      expect(r.status).toBe(200);
      const device = (await fetchDeviceById()).body;
      expectHeader(device);
      expect(device.status).toBe('DECOMMISSIONED');
      expect(device.identity.status).toBe('REVOKED'); // :680 Assign Identity enabled again
      // As Lamassu records a decommission: DECOMMISSIONED (TimelineEventItem.tsx:55-57 'Event'), no status change.
      expect(
        timeline(device)
          .slice(0, 3)
          .map((e) => [e.source, e.type, e.description]),
      ).toEqual([
        ['identity', 'STATUS-UPDATED', "Identity Slot Status updated from 'DECOMMISSIONED' to 'REVOKED'"],
        ['device', 'DECOMMISSIONED', ''],
        ['identity', 'RENEWED', 'New Active Version set to 1'],
      ]);
    },
  );

  it(
    'Permanently Delete (DeviceDetailsClient.tsx:560 → lib/devices-api.ts:118-127), ' +
      'then the not-found message (certificates/details/CertificateDetailsClient.tsx:214-220)',
    async () => {
      const r = await dashboard('DELETE', `${DEV_MANAGER()}/devices/${id}`);
      expect(r.status).toBe(204);
      const gone = await fetchDeviceById();
      expect(gone.status).toBeGreaterThanOrEqual(400);
      // DeviceDetailsClient.tsx:187-188 shows the message; CertificateDetailsClient.tsx:219 tests it for 'not found'.
      expect(dashboardError(gone, 'Failed to fetch device details').toLowerCase()).toContain('not found');
    },
  );
});

describe('Lamassu dashboard: Backend Services dialog', () => {
  it(
    'health (components/shared/BackendStatusDialog.tsx:57-85, ' + ':137-140): health, version, build, build_time',
    async () => {
      // :57 the service URL minus its last segment: `${LAMASSU_API}/devmanager/health`.
      const base = DEV_MANAGER();
      const r = await dashboard('GET', `${base.substring(0, base.lastIndexOf('/'))}/health`);
      expect(r.status).toBe(200);
      expect(r.body.health).toBe(true); // :69 `data.health === false` is an error
      expect(r.body.version).toMatch(/^\d+\.\d+\.\d+/); // :73, :83
      // :137-139: a build line only when `build` is set, and then build_time must parse as ISO.
      expect(r.body.build).toBe('');
      expect(typeof r.body.build_time).toBe('string');
    },
  );
});
