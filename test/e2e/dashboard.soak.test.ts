/**
 * The web dashboard in a real Chromium (Debian's `chromium`, driven by playwright-core) against the
 * local service: every page and action, a 412 conflict, an API error shown to the user, and an
 * expired token. One browser for the file; screenshots of each page at 1280 px and 390 px go to
 * docs/screenshots/ (shown in the README).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { type Browser, chromium, type Locator, type Page, type Route } from 'playwright-core';
import { IndexNotReadyError } from '../../functions/domain/errors';
import { errorResponse } from '../../functions/http/http-errors';
import type { LocalService } from '../../local/main';
import { buildDashboard, DASHBOARD_GZIP_BUDGET, gzippedSizes } from '../../web/build';
import { certificate } from '../support/certificates';
import { call, startTestService } from '../support/http';
import { signingKey } from '../support/jwks';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const DAY = 86_400_000;
const inDays = (n: number) => new Date(Date.now() + n * DAY).toISOString();

let service: LocalService;
let browser: Browser;
let page: Page;
let pendingKeys: Awaited<ReturnType<typeof certificate>>['keys'];

jest.setTimeout(120_000);

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  await buildDashboard();
  // The OpenAPI handler lists the indexed keys from its own environment (process.env), as in Lambda.
  process.env.INDEXED_METADATA_KEYS = 'firmware_version';
  [service, browser] = await Promise.all([
    startTestService({ INDEXED_METADATA_KEYS: 'firmware_version' }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  await service.sweepNow(); // the start-up sweep back-fills the (empty) metadata index: the key is ready
  const api = (method: string, p: string, body?: unknown) => call(service.url, method, p, body);
  await api('PUT', '/v2/dms/dms-a', {
    name: 'Factory A',
    settings: { preventive_delta: '60d', critical_delta: '14d' },
  });
  // Twelve devices: two pages of ten. Statuses from their identity certificates' expiry.
  const plan: [string, number | undefined, string][] = [
    ['dev-active', 200, 'line-1'],
    ['dev-pending', 30, 'line-1'],
    ['dev-soon', 7, 'line-2'],
    ['dev-none', undefined, 'line-2'],
  ];
  for (let i = 1; i <= 8; i++)
    plan.push([`dev-${String(i).padStart(2, '0')}`, 100 + i * 10, i % 2 ? 'line-1' : 'line-2']);
  for (const [id, days, tag] of plan) {
    expect(
      (
        await api('POST', '/v2/devices', {
          id,
          dms_id: id === 'dev-none' ? 'dms-b' : 'dms-a',
          tags: [tag],
          metadata: { firmware_version: days && days > 150 ? '1.5.0' : '1.4.2' },
        })
      ).status,
    ).toBe(201);
    if (days === undefined) continue;
    const cert = await certificate({ notAfter: inDays(days), subject: `CN=${id}, O=Example` });
    if (id === 'dev-pending') pendingKeys = cert.keys;
    expect((await api('PUT', `/v2/devices/${id}/idslot`, { certificate: cert.pem })).status).toBe(200);
  }
  const tls = await certificate({ notAfter: inDays(50), subject: 'CN=dev-pending tls' });
  expect((await api('PUT', '/v2/devices/dev-pending/slots/tls-server', { certificate: tls.pem })).status).toBe(200);
  mkdirSync(SHOTS, { recursive: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
});

afterAll(async () => {
  delete process.env.INDEXED_METADATA_KEYS;
  await browser?.close();
  await service?.stop();
});

const open = async (hash: string) => {
  await page.goto(`${service.url}/${hash}`);
};

/** Full-page screenshots at desktop and phone width; the viewport is restored afterwards. */
async function shoot(p: Page, name: string) {
  await p.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await p.setViewportSize({ width: 390, height: 844 });
  await p.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  // The phone layout has no horizontal scroll: wide tables scroll inside their own box.
  expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  await p.setViewportSize({ width: 1280, height: 900 });
}

/** Waits (up to 10 s) until `read` passes `check`; then fails with the last value's assertion. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => void): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Waits for the locator to show `expected`; on failure the assertion shows the text it had. */
async function expectText(locator: Locator, expected: string | RegExp): Promise<void> {
  try {
    await locator.filter({ hasText: expected }).first().waitFor({ timeout: 10_000 });
  } catch {
    expect(
      await locator
        .first()
        .textContent({ timeout: 1000 })
        .catch(() => '(no such element)'),
    ).toMatch(expected);
  }
}

const rowIds = () => page.locator('table.devices tbody tr td:first-child').allTextContents();

describe('dashboard build', () => {
  it(`is at most ${DASHBOARD_GZIP_BUDGET / 1024} KB gzipped`, () => {
    const sizes = gzippedSizes();
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    console.log(`dashboard gzipped: ${JSON.stringify(sizes)} total ${total} bytes`);
    expect(sizes['app.js']).toBeGreaterThan(10_000);
    expect(total).toBeLessThanOrEqual(DASHBOARD_GZIP_BUDGET);
  });

  it('is served at / with its CSP; the API stays at /v2', async () => {
    const res = await fetch(`${service.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('<script type="module" src="/app.js">');
    expect(await (await fetch(`${service.url}/dashboard-config.json`)).json()).toEqual({ auth: 'none' });
    expect((await fetch(`${service.url}/../package.json`)).status).toBe(404);
    expect((await call(service.url, 'GET', '/v2/devices?page_size=1')).body.list).toHaveLength(1);
  });
});

describe('Fleet page', () => {
  it('shows totals and the seven statuses; a status opens the filtered list', async () => {
    await open('#/fleet');
    await expectText(page.locator('.tile.total'), '12 devices');
    const pending = page.getByRole('link', { name: '1 renewal pending: list them' });
    await pending.waitFor();
    for (const status of ['no identity', 'active', 'expiring soon', 'expired', 'revoked', 'decommissioned']) {
      await page.getByRole('link', { name: new RegExp(`^\\d+ ${status}: list them$`) }).waitFor();
    }
    // The forecast: identity certificates of dev-soon (7 d) and dev-pending (30 d), its tls-server slot (50 d).
    await page.locator('.chart canvas').waitFor();
    await expectText(page.locator('.callout'), /0 already expired/);
    const forecast = await page
      .locator('.chart table tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(forecast.length).toBeGreaterThanOrEqual(12);
    expect(forecast.reduce((n, row) => n + Number(row[2]), 0)).toBe(2);
    expect(forecast.reduce((n, row) => n + Number(row[3]), 0)).toBe(1);
    // The distribution of the indexed key firmware_version.
    const dist = page.locator('.card', { hasText: 'metadata.firmware_version' });
    await expectText(dist.getByRole('row', { name: /"1\.4\.2"/ }), /"1\.4\.2"\s*8/);
    await expectText(dist.getByRole('row', { name: /"1\.5\.0"/ }), /"1\.5\.0"\s*4/);
    await page.getByRole('cell', { name: 'dms-a' }).waitFor();
    await expectText(page.locator('#dms ~ div table'), '60d before expiry');
    await shoot(page, 'fleet');
    await pending.click();
    await page.waitForURL(/#\/devices\?status=RENEWAL_PENDING$/);
    await page.locator('table.devices tbody tr').first().waitFor();
    expect(await rowIds()).toEqual(['dev-pending']);
  });

  it('says so when a statistics route answers an error, instead of a blank section', async () => {
    await open('#/fleet?key=not.indexed');
    const alert = page
      .getByRole('alert')
      .filter({ hasText: 'Could not load the distribution of metadata.not.indexed' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/HTTP 400/);
    await expectText(page.locator('.tile.total'), '12 devices');
  });
});

describe('Devices page', () => {
  it('filters with the controls, sorts, pages by bookmark, and the back button restores each view', async () => {
    await open('#/devices');
    await page.locator('table.devices tbody tr').nth(9).waitFor();
    expect(await rowIds()).toHaveLength(12);
    await page.getByLabel('Tag').fill('line-2');
    await page.getByLabel('Sort by').selectOption({ label: 'Id' });
    await page.getByLabel('Order').selectOption('desc');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/tag=line-2/);
    expect(page.url()).toMatch(/sort_by=id/);
    await eventually(rowIds, (v) =>
      expect(v).toEqual(['dev-soon', 'dev-none', 'dev-08', 'dev-06', 'dev-04', 'dev-02']),
    );

    await page.getByRole('button', { name: 'Add metadata filter' }).click();
    await page.getByLabel('Metadata key 1').fill('firmware_version');
    await page.getByLabel('Value 1').fill('"1.5.0"');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(rowIds, (v) => expect(v).toEqual(['dev-08', 'dev-06']));
    await shoot(page, 'devices');

    await open('#/devices?sort_by=id&page_size=10');
    await eventually(rowIds, (v) => expect(v).toHaveLength(10));
    const first = await rowIds();
    expect(first[0]).toBe('dev-01');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForURL(/bookmark=/);
    await eventually(rowIds, (v) => expect(v).toEqual(['dev-pending', 'dev-soon']));
    await expectText(page.locator('.pager'), 'page 2');
    await page.goBack();
    await eventually(rowIds, (v) => expect(v).toEqual(first));
    await page.goForward();
    await eventually(rowIds, (v) => expect(v).toEqual(['dev-pending', 'dev-soon']));
    await page.getByRole('button', { name: 'Previous page' }).click();
    await eventually(rowIds, (v) => expect(v).toEqual(first));
    // A column header sorts too: by id again flips the order.
    await page.getByRole('link', { name: 'Id ▲' }).click();
    await page.waitForURL(/sort_mode=desc/);
    await eventually(rowIds, (v) => expect(v.slice(0, 2)).toEqual(['dev-soon', 'dev-pending']));
    expect(await page.getByRole('columnheader', { name: 'Id ▼' }).getAttribute('aria-sort')).toBe('descending');
  });

  it('shows the API error of a bad filter in words', async () => {
    await open('#/devices?meta=firmware_version[gt]');
    await expectText(page.getByRole('alert'), /Could not load the devices\..*HTTP 400/);
  });

  it('lists the members of a group', async () => {
    await call(service.url, 'POST', '/v2/device-groups', {
      id: 'line-1-only',
      name: 'Line 1',
      criteria: [{ field: 'tags', operand: 'ct', value: 'line-1' }],
    });
    await open('#/devices?group=line-1-only&sort_by=id');
    await eventually(rowIds, (v) =>
      expect(v).toEqual(['dev-01', 'dev-03', 'dev-05', 'dev-07', 'dev-active', 'dev-pending']),
    );
  });
});

describe('Device page', () => {
  it('explains the status, lists every version with a PEM download and the full timeline', async () => {
    await open('#/devices/dev-pending');
    await expectText(
      page.locator('#status-reason'),
      new RegExp(
        'Identity certificate version 0 \\(serial [0-9a-f]+\\) entered its renewal window on .* ' +
          '\\(60d before its expiry on .*policy of DMS dms-a\\)',
      ),
    );
    await expectText(page.locator('#status-next'), /Next: expiring soon on .* \(in 16 days\)/);
    const tls = page.locator('.slot', { hasText: 'Slot tls-server' });
    await expectText(tls, 'CN=dev-pending tls');
    const identity = page.locator('.slot', { hasText: 'Identity' });
    await expectText(identity, 'SHA-256');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      identity.getByRole('button', { name: 'Download PEM' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('dev-pending-identity-v0.pem');
    expect(readFileSync(await download.path(), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await expectText(page.locator('.timeline'), 'CREATED');
    await expectText(page.locator('.timeline'), 'PROVISIONED');
    await shoot(page, 'device');
  });

  it('edits tags and metadata with If-Match, and explains a 412 when someone else wrote first', async () => {
    await open('#/devices/dev-active');
    // Every load of the page done first: a late one re-renders the form with the stored values.
    await page.waitForLoadState('networkidle');
    await page.getByLabel('Tags (comma-separated)').fill('line-1, rooftop');
    await page.getByLabel('Metadata (JSON object)').fill('{"firmware_version": "1.6.0", "site": "roof"}');
    await page.getByRole('button', { name: /^Save \(version/ }).click();
    await expectText(page.getByRole('status'), 'Saving tags and metadata: done.');
    const saved = await call(service.url, 'GET', '/v2/devices/dev-active');
    expect(saved.body.tags).toEqual(['line-1', 'rooftop']);
    expect(saved.body.metadata).toEqual({ firmware_version: '1.6.0', site: 'roof' });

    // Another writer changes the device while the form shows the previous version.
    await page.getByRole('button', { name: `Save (version ${saved.body.version})` }).waitFor();
    await call(
      service.url,
      'PATCH',
      '/v2/devices/dev-active',
      { tags: ['changed-elsewhere'] },
      { 'content-type': 'application/merge-patch+json' },
    );
    await page.getByLabel('Tags (comma-separated)').fill('mine');
    await page.getByRole('button', { name: /^Save \(version/ }).click();
    await expectText(
      page.getByRole('alert'),
      `Not saved: someone else changed this device since you opened ` +
        `it (you edited version ${saved.body.version}; it is now at ` +
        `version ${saved.body.version + 1})`,
    );
    expect((await call(service.url, 'GET', '/v2/devices/dev-active')).body.tags).toEqual(['changed-elsewhere']);
  });

  it('binds a PEM, revokes with a reason, and decommissions after confirmation', async () => {
    await open('#/devices/dev-pending');
    const renewed = await certificate({ notAfter: inDays(300), keys: pendingKeys, subject: 'CN=dev-pending renewed' });
    await page.getByLabel('Certificate (PEM)').fill(renewed.pem);
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await expectText(page.getByRole('status'), 'Binding the certificate to identity: done.');
    await expectText(page.locator('.timeline'), 'RENEWED');
    await expectText(
      page.locator('.slot', { hasText: 'Identity' }).getByRole('listitem', { name: 'version 1' }),
      'CN=dev-pending renewed',
    );
    await expectText(page.locator('#status-reason'), 'Identity certificate version 1');

    await page.getByLabel('Reason').selectOption('KeyCompromise');
    await page.getByRole('button', { name: 'Revoke the active version' }).click();
    await expectText(page.locator('#status-title'), 'revoked');
    await expectText(
      page.locator('#status-reason'),
      /version 1 \(serial [0-9a-f]+\) was revoked \(reason KeyCompromise\)/,
    );

    await page.getByRole('button', { name: 'Decommission…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Decommission dev-pending?' });
    const confirm = dialog.getByRole('button', { name: 'Decommission', exact: true });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type the device id to confirm').fill('dev-pending');
    await confirm.click();
    await expectText(page.locator('#status-title'), 'decommissioned');
    await expectText(page.locator('.timeline'), 'DECOMMISSIONED');
    expect((await call(service.url, 'GET', '/v2/devices/dev-pending')).body.status).toBe('DECOMMISSIONED');
  });

  it('shows a 404 from the API as a message, not a blank page', async () => {
    await open('#/devices/no-such-device');
    await expectText(page.getByRole('alert').first(), /Could not load device no-such-device\..*HTTP 404/);
  });

  it('shows a link with broken percent-encoding as an invalid link, not a blank page', async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    for (const [hash, segment] of [
      ['#/devices/%E0%A4%A', '%E0%A4%A'],
      ['#/groups/%', '%'],
    ] as const) {
      await open(hash);
      await expectText(
        page.getByRole('alert').first(),
        new RegExp(`This link is not valid: '${segment}' is not percent-encoded text`),
      );
      // The shell still renders around the message.
      await expectText(page.getByRole('navigation', { name: 'Main' }), /Fleet/);
    }
    expect(errors).toEqual([]);
  });
});

describe('Groups page', () => {
  it(
    'creates groups with the criteria builder, shows inherited ' + 'criteria, counts and status bars, and edits',
    async () => {
      await open('#/groups/new');
      await page.getByLabel('Id (optional: a UUID is generated)').fill('factory-a');
      await page.getByLabel('Name').fill('Factory A');
      await page.getByRole('button', { name: 'Add criterion' }).click();
      await page.getByLabel('Field of criterion 1').selectOption('dms_owner');
      await page.getByLabel('Operator of criterion 1').selectOption('eq');
      await page.getByLabel('Value of criterion 1').fill('dms-a');
      await page.getByRole('button', { name: 'Create group' }).click();
      await page.waitForURL(/#\/groups\/factory-a$/);

      await page.getByRole('link', { name: 'New child group' }).click();
      await page.getByLabel('Id (optional: a UUID is generated)').fill('factory-a-line-2');
      await page.getByLabel('Name').fill('Line 2 of factory A');
      await expectText(page.locator('.inherited'), 'dms_owner eq dms-a');
      await page.getByRole('button', { name: 'Add criterion' }).click();
      await page.getByLabel('Value of criterion 1').fill('line-2');
      await page.getByRole('button', { name: 'Create group' }).click();
      await page.waitForURL(/#\/groups\/factory-a-line-2$/);
      const created = await call(service.url, 'GET', '/v2/device-groups/factory-a-line-2');
      expect(created.body).toMatchObject({
        parent_id: 'factory-a',
        criteria: [{ field: 'tags', operand: 'ct', value: 'line-2' }],
        inherited_criteria: [{ field: 'dms_owner', operand: 'eq', value: 'dms-a' }],
      });

      // dms-a has 11 devices; 5 of them carry line-2 (dev-none is dms-b).
      await page.getByRole('link', { name: '11 members of factory-a: list them' }).waitFor();
      await page.getByRole('link', { name: '5 members of factory-a-line-2: list them' }).waitFor();
      expect(await page.locator('.tree .statusbar').first().getAttribute('aria-label')).toMatch(/active \d+/);

      await page.getByLabel('Name').fill('Line two');
      await page.getByRole('button', { name: /^Save \(version/ }).click();
      await expectText(page.getByRole('status'), 'Saved factory-a-line-2.');
      await expectText(page.locator('.tree'), 'Line two');
      await shoot(page, 'groups');
    },
  );
});

describe('Posture page', () => {
  const jobStatus = () => page.locator('#job-status');
  const jobIdOfUrl = () => decodeURIComponent(/#\/posture\/jobs\/([^/?]+)$/.exec(page.url())![1]!);
  const outcomeRows = () =>
    page
      .locator('table.outcomes tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)));

  beforeAll(async () => {
    // Two devices with RSA-1024 keys signed with SHA-1: weak-key and weak-signature under the default policy.
    for (const id of ['weak-1', 'weak-2']) {
      expect((await call(service.url, 'POST', '/v2/devices', { id, dms_id: 'dms-a', tags: ['legacy'] })).status).toBe(
        201,
      );
      const cert = await certificate({ algorithm: 'RSA-1024', notAfter: inDays(400), subject: `CN=${id}` });
      expect((await call(service.url, 'PUT', `/v2/devices/${id}/idslot`, { certificate: cert.pem })).status).toBe(200);
    }
  });

  it('shows a 409 INDEX_NOT_READY as being computed, and asks again on request', async () => {
    // The service's own error bodies (http-errors.ts), answered while the back-fill would still run: a fresh
    // service finishes its first assessment before a browser could ask, so the 409 is answered here.
    const notReady = (error: IndexNotReadyError) => async (route: Route) => {
      const { statusCode, body } = errorResponse(error);
      await route.fulfill({ status: statusCode, contentType: 'application/json', body: JSON.stringify(body) });
    };
    await page.route('**/v2/findings', notReady(new IndexNotReadyError('findings', 'findings are being assessed')));
    await page.route('**/v2/stats/certificates?by=key*', notReady(IndexNotReadyError.inventory()));
    try {
      await open('#/posture');
      const findings = page.locator('section', { has: page.locator('#findings') });
      await expectText(findings.getByRole('status'), /^Being computed: the findings\. Devices stored before/);
      const keys = page.locator('.card', { hasText: 'Key algorithm and size' });
      await expectText(keys.getByRole('status'), /^Being computed: the inventory by key\./);
      await expectText(page.locator('.card', { hasText: 'Signature algorithm' }), /sha1WithRSAEncryption\s*2/);
      expect(await page.getByRole('alert').count()).toBe(0);
      await page.unrouteAll();
      await findings.getByRole('button', { name: 'Ask again' }).click();
      await page.getByRole('link', { name: '2 open weak-key: list them' }).waitFor();
      await keys.getByRole('button', { name: 'Ask again' }).click();
      await expectText(keys.getByRole('row', { name: /RSA-1024/ }), /RSA-1024\s*2 devices/);
    } finally {
      await page.unrouteAll();
    }
  });

  it('charts the inventory with drill-downs, counts open findings, and lists a check’s devices', async () => {
    await open('#/posture');
    const weakKey = page.getByRole('link', { name: '2 open weak-key: list them' });
    await weakKey.waitFor();
    await page.getByRole('link', { name: '2 open weak-signature: list them' }).waitFor();
    await expectText(page.getByRole('row', { name: /issuer-not-allowed/ }), /issuer-not-allowed.*0$/);
    // In service: the ten EC-P256 identities left (dev-pending was revoked and decommissioned) and the two weak ones.
    const keys = page.locator('.card', { hasText: 'Key algorithm and size' });
    await keys.locator('canvas').waitFor();
    await expectText(keys.getByRole('row', { name: /EC-P256/ }), /EC-P256\s*10 devices/);
    await expectText(keys.getByRole('row', { name: /RSA-1024/ }), /RSA-1024\s*2 devices/);
    const signatures = page.locator('.card', { hasText: 'Signature algorithm' });
    await expectText(signatures.getByRole('row', { name: /sha1WithRSAEncryption/ }), /sha1WithRSAEncryption\s*2$/);
    expect(await keys.locator('canvas').getAttribute('aria-label')).toMatch(/EC-P256 10, RSA-1024 2/);
    await page.getByRole('link', { name: 'New job…' }).waitFor();
    await shoot(page, 'posture');

    // An inventory value opens the device list filtered by its indexed entry point.
    await keys.getByRole('link', { name: '2 devices' }).click();
    await page.waitForURL(/#\/devices\?filter=identity\.key%5Beq%5DRSA-1024$/);
    await eventually(rowIds, (v) => expect([...v].sort()).toEqual(['weak-1', 'weak-2']));

    // A check opens its devices, each a link to the device page, which lists its own findings.
    await page.goBack();
    await weakKey.click();
    await page.waitForURL(/#\/posture\/findings\/weak-key$/);
    const listed = () => page.locator('table.finding-devices tbody tr td:first-child').allTextContents();
    await eventually(listed, (v) => expect(v).toEqual(['weak-1', 'weak-2']));
    await expectText(page.locator('table.finding-devices tbody tr').first(), /identity.*RSA-1024/);
    await page.getByRole('link', { name: 'weak-1' }).click();
    await page.waitForURL(/#\/devices\/weak-1$/);
    const findings = page.locator('section', { has: page.locator('#findings-title') });
    await expectText(findings.getByRole('row', { name: /weak-key/ }), /weak-key\s*identity.*RSA-1024/);
    await expectText(findings.getByRole('row', { name: /weak-signature/ }), /weak-signature\s*identity/);
    await open('#/devices/dev-active');
    await expectText(page.locator('section', { has: page.locator('#findings-title') }), 'No open finding.');
  });

  it('starts a job from a finding as a dry run first, then runs it for real', async () => {
    await open('#/posture/findings/weak-signature');
    await page.getByRole('link', { name: 'Act on these devices…' }).click();
    await page.waitForURL(/#\/posture\/jobs\/new\?finding=weak-signature$/);
    expect(await page.getByLabel('with an open finding').isChecked()).toBe(true);
    expect(await page.getByLabel('Finding', { exact: true }).inputValue()).toBe('weak-signature');
    await page.getByLabel('Tags (comma-separated)').fill('sha1-review');
    await page.getByRole('button', { name: 'Start a dry run' }).click();
    await page.waitForURL(/#\/posture\/jobs\/(?!new)[^/?]+$/);
    await expectText(jobStatus(), 'succeeded (dry run)');
    await expectText(page.locator('.facts'), 'devices with an open weak-signature finding');
    await expectText(page.locator('#job-progress'), '2 matched');
    await page.getByRole('button', { name: 'Run it for real…' }).click();
    await page.getByRole('button', { name: 'Start the job' }).click();
    await expectText(jobStatus(), /^Status succeeded$/);
    await expectText(page.locator('#job-progress'), '2 of 2 matched: 2 done, 0 skipped, 0 failed');
    const job = await call(service.url, 'GET', `/v2/jobs/${jobIdOfUrl()}`);
    expect(job.body).toMatchObject({ finding: 'weak-signature', dry_run: false, action: { tags: ['sha1-review'] } });
    expect((await call(service.url, 'GET', '/v2/devices/weak-2')).body.tags).toEqual(['legacy', 'sha1-review']);
  });

  it('starts a job from list filters as a dry run first, then runs it for real', async () => {
    await open(`#/devices?filter=${encodeURIComponent('identity.key[eq]RSA-1024')}`);
    await eventually(rowIds, (v) => expect(v).toHaveLength(2));
    await page.getByRole('link', { name: 'Start a job on the devices these filters match…' }).click();
    await page.waitForURL(/#\/posture\/jobs\/new\?filter=/);
    expect(await page.getByLabel('matching list filters').isChecked()).toBe(true);
    expect(await page.getByLabel('Filters, one a line (as the device list spells them)').inputValue()).toBe(
      'identity.key[eq]RSA-1024',
    );
    await page.getByLabel('Action', { exact: true }).selectOption('revoke-identity');
    await page.getByLabel('Reason').selectOption('KeyCompromise');
    await page.getByRole('button', { name: 'Start a dry run' }).click();
    await page.waitForURL(/#\/posture\/jobs\/(?!new)[^/?]+$/);
    const dryRun = jobIdOfUrl();
    await expectText(jobStatus(), 'succeeded (dry run)');
    await expectText(page.locator('#job-progress'), '2 matched');
    await eventually(outcomeRows, (v) =>
      expect(v).toEqual([
        ['weak-1', 'matched'],
        ['weak-2', 'matched'],
      ]),
    );
    // The dry run changed nothing.
    expect((await call(service.url, 'GET', '/v2/devices/weak-1')).body.status).toBe('ACTIVE');

    await page.getByRole('button', { name: 'Run it for real…' }).click();
    await expectText(
      page.locator('.card', { hasText: 'The dry run matched' }),
      /revoke the identity \(KeyCompromise\)/,
    );
    await page.getByRole('button', { name: 'Start the job' }).click();
    await page.waitForURL((url) => /#\/posture\/jobs\/[^/?]+$/.test(url.hash) && !url.hash.endsWith(dryRun));
    const real = jobIdOfUrl();
    await expectText(jobStatus(), /^Status succeeded$/);
    await expectText(page.locator('#job-progress'), '2 of 2 matched: 2 done, 0 skipped, 0 failed');
    await eventually(outcomeRows, (v) =>
      expect(v).toEqual([
        ['weak-1', 'done'],
        ['weak-2', 'done'],
      ]),
    );
    const job = await call(service.url, 'GET', `/v2/jobs/${real}`);
    expect(job.body).toMatchObject({
      dry_run: false,
      filter: ['identity.key[eq]RSA-1024'],
      action: { type: 'revoke-identity', reason: 'KeyCompromise' },
      counts: { matched: 2, done: 2, skipped: 0, failed: 0 },
    });
    expect((await call(service.url, 'GET', '/v2/devices/weak-1')).body.status).toBe('REVOKED');
    await shoot(page, 'posture-job');
    // Revoked certificates are out of service: the findings resolved with the revocation.
    await eventually(
      () => call(service.url, 'GET', '/v2/devices/weak-1'),
      (r) => expect(r.body.findings).toEqual([]),
    );
    await eventually(
      () => call(service.url, 'GET', '/v2/findings'),
      (r) => expect(r.body.checks).toContainEqual({ check: 'weak-key', open: 0 }),
    );
    await open('#/posture');
    await expectText(page.getByRole('row', { name: /weak-key/ }), /weak-key.*0$/);
    await expectText(page.locator('.jobs tbody tr').first(), /succeeded.*revoke the identity/);
  });

  it('cancels a running job', async () => {
    // A job slow enough to be caught running: one device a second over the thirteen devices of dms-a.
    const created = await call(service.url, 'POST', '/v2/jobs', {
      filter: ['dms_owner[eq]dms-a'],
      action: { type: 'add-tags', tags: ['audited'] },
      rate_per_second: 1,
    });
    expect(created.status).toBe(202);
    const id: string = created.body.id;
    await open(`#/posture/jobs/${encodeURIComponent(id)}`);
    await expectText(jobStatus(), /^Status (pending|running)$/);
    await page.getByRole('button', { name: 'Cancel the job' }).click();
    await expectText(jobStatus(), /^Status cancelled$/);
    expect(await page.getByRole('button', { name: 'Cancel the job' }).count()).toBe(0);
    expect((await call(service.url, 'GET', `/v2/jobs/${id}`)).body.status).toBe('CANCELLED');
    const tagged = await call(service.url, 'GET', '/v2/devices?filter=tags[ct]audited&page_size=100');
    expect(tagged.body.list.length).toBeLessThan(13);
  });

  it('says what the API refuses when a job is started', async () => {
    await open('#/posture/jobs/new');
    await page.getByLabel('matching list filters').check();
    await page.getByLabel('Filters, one a line (as the device list spells them)').fill('status[zz]ACTIVE');
    await page.getByLabel('Tags (comma-separated)').fill('x');
    await page.getByRole('button', { name: 'Start a dry run' }).click();
    await expectText(page.getByRole('alert'), /The dry run was not started: .*HTTP 400.*filter\[0\]/);
  });
});

describe('signing in with a token (AUTH_JWKS)', () => {
  const ISSUER = 'https://issuer.example.test/';
  let authed: LocalService;
  let sign: (expires: string | number) => Promise<string>;

  beforeAll(async () => {
    const { jwks, privateKey } = await signingKey();
    sign = (expires) =>
      new SignJWT({ scope: 'devices:read devices:write groups:write' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience('device-manager')
        .setSubject('operator-1')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
        .setExpirationTime(expires)
        .sign(privateKey);
    authed = await startTestService({
      AUTH_JWKS: jwks,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: 'device-manager',
      TABLE_NAME: `devices-${randomUUID()}`,
    });
  });
  afterAll(async () => {
    await authed?.stop();
  });

  it('asks for a token, says when it has expired, and works with a valid one', async () => {
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await p.goto(`${authed.url}/#/fleet`);
      await p
        .getByLabel('Access token (JWT) from the issuer the API trusts')
        .fill(await sign(Math.floor(Date.now() / 1000) - 60));
      await p.getByRole('button', { name: 'Use this token' }).click();
      await expectText(
        p.getByRole('alert'),
        /Your token has expired at .* \(the API said: invalid token \(ERR_JWT_EXPIRED\)\)\. Sign in again\./,
      );
      await shoot(p, 'signin');
      await p.getByLabel('Access token (JWT) from the issuer the API trusts').fill(await sign('10m'));
      await p.getByRole('button', { name: 'Use this token' }).click();
      await expectText(p.locator('.tile.total'), '0 devices');
      await p.getByRole('button', { name: 'Sign out' }).waitFor();
    } finally {
      await p.close();
    }
  });
});

describe('signing in with OIDC (authorization code + PKCE)', () => {
  const AUDIENCE = 'device-manager';
  let issuer: Server;
  let issuerUrl: string;
  let authed: LocalService;
  const seen: { challenge?: string; verifier?: string; clientId?: string; method?: string } = {};

  /**
   * A minimal OpenID provider: discovery, an authorize endpoint that signs the user in at once, a token endpoint that
   * checks PKCE.
   */
  beforeAll(async () => {
    const { jwks, privateKey } = await signingKey();
    issuer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', issuerUrl);
      const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' };
      if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
      if (url.pathname === '/.well-known/openid-configuration') {
        res.writeHead(200, { ...cors, 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({
            issuer: issuerUrl,
            authorization_endpoint: `${issuerUrl}/authorize`,
            token_endpoint: `${issuerUrl}/token`,
            jwks_uri: `${issuerUrl}/jwks`,
            response_types_supported: ['code'],
            code_challenge_methods_supported: ['S256'],
          }),
        );
      }
      if (url.pathname === '/authorize') {
        seen.challenge = url.searchParams.get('code_challenge') ?? undefined;
        seen.method = url.searchParams.get('code_challenge_method') ?? undefined;
        seen.clientId = url.searchParams.get('client_id') ?? undefined;
        const back = new URL(url.searchParams.get('redirect_uri')!);
        back.searchParams.set('code', 'code-1');
        back.searchParams.set('state', url.searchParams.get('state')!);
        return void res.writeHead(302, { location: back.toString() }).end();
      }
      if (url.pathname === '/token') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const form = new URLSearchParams(body);
          seen.verifier = form.get('code_verifier') ?? undefined;
          const pkce =
            createHash('sha256')
              .update(seen.verifier ?? '')
              .digest('base64url') === seen.challenge && form.get('code') === 'code-1';
          if (!pkce)
            return void res
              .writeHead(400, { ...cors, 'content-type': 'application/json' })
              .end(JSON.stringify({ error: 'invalid_grant' }));
          const jwt = (claims: Record<string, unknown>, audience: string) =>
            new SignJWT(claims)
              .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
              .setIssuer(issuerUrl)
              .setAudience(audience)
              .setSubject('operator-1')
              .setIssuedAt()
              .setExpirationTime('10m')
              .sign(privateKey);
          void Promise.all([
            jwt({ scope: 'devices:read devices:write groups:write dms:write' }, AUDIENCE),
            jwt({ email: 'operator@example.test' }, 'dashboard'),
          ]).then(([access, id]) => {
            res.writeHead(200, { ...cors, 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                access_token: access,
                id_token: id,
                token_type: 'Bearer',
                expires_in: 600,
                scope: 'openid devices:read devices:write groups:write dms:write',
              }),
            );
          });
        });
        return;
      }
      res.writeHead(404, cors).end();
    });
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
    issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
    authed = await startTestService({
      AUTH_JWKS: jwks,
      AUTH_ISSUER: issuerUrl,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_OIDC_CLIENT_ID: 'dashboard',
    });
    await call(
      authed.url,
      'POST',
      '/v2/devices',
      { id: 'oidc-device', dms_id: 'dms-a' },
      {
        authorization: `Bearer ${await new SignJWT({ scope: 'devices:write' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(issuerUrl)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(privateKey)}`,
      },
    );
  });
  afterAll(async () => {
    await authed?.stop();
    await new Promise((resolve) => issuer?.close(resolve));
  });

  it('signs in at the issuer, returns to the same view, and calls the API with the access token', async () => {
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      p.setDefaultTimeout(10_000);
      await p.goto(`${authed.url}/#/devices`);
      await p.getByRole('button', { name: 'Sign in with your identity provider' }).click();
      await p.waitForURL(/code=code-1/);
      await p.waitForURL(`${authed.url}/#/devices`);
      await p.getByRole('link', { name: 'oidc-device' }).waitFor();
      await p.getByRole('button', { name: 'Sign out operator@example.test' }).waitFor();
      expect(seen).toMatchObject({ clientId: 'dashboard', method: 'S256' });
      expect(seen.verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
      expect(createHash('sha256').update(seen.verifier!).digest('base64url')).toBe(seen.challenge);
    } finally {
      await p.close();
    }
  });
});
