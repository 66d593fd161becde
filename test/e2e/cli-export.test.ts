/**
 * End to end: `device-manager export` then `import` into a fresh data folder recreates the fleet
 * (identity certificates, revoked identities, decommissioned devices) with equal statistics; `stats`,
 * `forecast`, export by filter and by group.
 */
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { certificate } from '../support/certificates';
import { cli, summaryCounts } from '../support/cli';
import { call } from '../support/http';
import { startLocalService, type LocalService } from '../../local/main';
import { run } from '../../cli/main';
import { bySize } from '../support/tier';

jest.setTimeout(300_000);

const dir = mkdtempSync(path.join(tmpdir(), 'cli-export-'));
/** A multiple of 4 (the filters split it in quarters and halves); the soak tier exports 200. */
const FLEET = bySize(80, 200);
const DAY = 86_400_000;
/** Identity expiries per device kind, in days from now (default policy 60d / 14d). */
const EXPIRIES = { active: 200, renewal: 30, expiring: 7 } as const;

const start = (env: Record<string, string>) =>
  startLocalService({
    env: { PORT: '0', TABLE_NAME: `devices-${randomUUID()}`, SWEEP_INTERVAL_SECONDS: '0', ...env },
    quiet: true,
  });

/** `export` into a file (stdout as a file stream, as a shell redirect would). */
async function exportTo(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const out = createWriteStream(file);
  let stderr = '';
  const code = await run(['export', ...args, '--progress-interval', '0'], {
    stdout: out,
    stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
    env: {},
  });
  out.end();
  await once(out, 'finish');
  return { code, stderr };
}

const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);

/** What must survive a round trip, per device. */
const essence = (d: Record<string, any>) => ({
  id: d.id,
  dms_owner: d.dms_owner,
  status: d.status,
  tags: d.tags,
  metadata: d.metadata,
  icon: d.icon,
  icon_color: d.icon_color,
  identity: d.identity && { status: d.identity.status, serial: d.identity.secrets[d.identity.active_version] },
});

describe('export and import round trip', () => {
  let source: LocalService;
  let statsBefore: unknown;
  const exported = path.join(dir, 'fleet.ndjson');

  beforeAll(async () => {
    source = await start({ IN_MEMORY: 'true' });
    const lines: string[] = [];
    for (let i = 0; i < FLEET; i++) {
      const device: Record<string, unknown> = {
        id: `rt-${i}`,
        dms_id: `dms-${i % 4}`,
        tags: [`t${i % 5}`, ...(i % 2 ? ['odd'] : [])],
        metadata: { i, site: { floor: i % 3 } },
        icon: `icon-${i % 2}`,
        icon_color: i % 2 ? '#ff0000' : '#00ff00',
      };
      if (i < 30) {
        const kind = (['active', 'renewal', 'expiring'] as const)[i % 3]!;
        device.certificate = (await certificate({ notAfter: new Date(Date.now() + EXPIRIES[kind] * DAY) })).pem;
      }
      lines.push(JSON.stringify(device));
    }
    writeFileSync(path.join(dir, 'seed.ndjson'), `${lines.join('\n')}\n`);
    const seeded = await cli(['import', path.join(dir, 'seed.ndjson'), '--api', source.url]);
    expect(seeded.code).toBe(0);
    for (const id of ['rt-0', 'rt-1', 'rt-2'])
      expect(
        (await call(source.url, 'POST', `/v2/devices/${id}/idslot/revoke`, { reason: 'KeyCompromise' })).status,
      ).toBe(200);
    for (const id of ['rt-3', 'rt-4', `rt-${FLEET / 2}`, `rt-${FLEET / 2 + 1}`])
      expect((await call(source.url, 'DELETE', `/v2/devices/${id}`)).status).toBe(200);
    statsBefore = (await call(source.url, 'GET', '/v2/stats/devices')).body;
  });

  let stopped = false;
  afterAll(async () => {
    if (!stopped) await source.stop();
  });

  it('stats and forecast print the API figures as tables', async () => {
    const stats = await cli(['stats', '--api', source.url]);
    expect(stats.code).toBe(0);
    const s = statsBefore as { total: number; status_distribution: Record<string, number> };
    expect(stats.stdout).toMatch(new RegExp(`^ACTIVE\\s+${s.status_distribution.ACTIVE}\\s`, 'm'));
    expect(stats.stdout).toMatch(new RegExp(`^DECOMMISSIONED\\s+4\\s`, 'm'));
    expect(stats.stdout).toMatch(new RegExp(`^total\\s+${FLEET}\\s+100.0$`, 'm'));
    const filtered = await cli(['stats', '--api', source.url, '--filter', 'dms_owner[eq]dms-1']);
    expect(filtered.stdout).toMatch(new RegExp(`^total\\s+${FLEET / 4}\\s`, 'm'));

    const forecast = await cli(['forecast', '--api', source.url, '--bucket', 'month', '--horizon', '365']);
    expect(forecast.code).toBe(0);
    const api = (await call(source.url, 'GET', '/v2/stats/expirations?bucket=month&horizon_days=365')).body as {
      buckets: { identity: number }[];
    };
    const total = api.buckets.reduce((n, b) => n + b.identity, 0);
    // Active identities: 30 bound, 3 revoked, rt-3 and rt-4 decommissioned (their identity revoked).
    expect(total).toBe(25);
    expect(forecast.stdout).toMatch(new RegExp(`^total\\s+${total}\\s+0\\s+${total}$`, 'm'));
    expect(forecast.stdout.split('\n').filter((l) => /^\d{4}-\d{2}-\d{2}/.test(l))).toHaveLength(api.buckets.length);
    const refused = await cli(['forecast', '--api', source.url, '--filter', 'tags[ct]x']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/forecast: 400 /);
  });

  it('exports by filter and by group, following bookmarks', async () => {
    const byDms = path.join(dir, 'dms-2.ndjson');
    expect(
      (await exportTo(byDms, ['--api', source.url, '--filter', 'dms_owner[eq]dms-2', '--page-size', '7'])).code,
    ).toBe(0);
    expect(
      readLines(byDms)
        .map((d) => d.id)
        .sort(),
    ).toEqual(
      Array.from({ length: FLEET }, (_, i) => i)
        .filter((i) => i % 4 === 2)
        .map((i) => `rt-${i}`)
        .sort(),
    );
    expect(
      (
        await call(source.url, 'POST', '/v2/device-groups', {
          id: 'odd',
          name: 'Odd',
          criteria: [{ field: 'tags', operand: 'ct', value: 'odd' }],
        })
      ).status,
    ).toBe(201);
    const byGroup = path.join(dir, 'odd.ndjson');
    const r = await exportTo(byGroup, ['--api', source.url, '--group', 'odd', '--page-size', '9']);
    expect(r.stderr).toContain(`export: ${FLEET / 2} devices`);
    const members = readLines(byGroup);
    expect(new Set(members.map((d) => d.id)).size).toBe(FLEET / 2);
    expect(members.every((d) => d.tags.includes('odd'))).toBe(true);
  });

  it('an import of the export into a fresh data folder recreates the fleet with equal statistics', async () => {
    const e = await exportTo(exported, ['--api', source.url]);
    expect(e.code).toBe(0);
    const before = readLines(exported);
    expect(before).toHaveLength(FLEET);
    expect(before.filter((d) => typeof d.certificate === 'string')).toHaveLength(30);
    expect(
      before
        .filter((d) => d.revocation_reason === 'KeyCompromise')
        .map((d) => d.id)
        .sort(),
    ).toEqual(['rt-0', 'rt-1', 'rt-2']);
    await source.stop();
    stopped = true;

    const target = await start({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'cli-fresh-')), LOCAL_EVENTS_FILE: '' });
    try {
      const imported = await cli(['import', exported, '--api', target.url]);
      expect(imported.stderr).not.toContain('invalid');
      expect(summaryCounts(imported.stdout)).toEqual({
        created: FLEET,
        unchanged: 0,
        updated: 0,
        conflict: 0,
        invalid: 0,
        failed: 0,
      });
      expect(imported.code).toBe(0);
      const { consistent_as_of: _, ...counts } = statsBefore as Record<string, unknown>;
      expect((await call(target.url, 'GET', '/v2/stats/devices')).body).toMatchObject(counts);
      const after = path.join(dir, 'after.ndjson');
      await exportTo(after, ['--api', target.url]);
      const byId = (lines: Record<string, unknown>[]) => lines.map(essence).sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(byId(readLines(after))).toEqual(byId(before));
      // and again: the whole export is unchanged, revoked and decommissioned devices included
      const again = await cli(['import', exported, '--api', target.url]);
      expect(summaryCounts(again.stdout)).toMatchObject({ unchanged: FLEET });
      expect(again.code).toBe(0);
    } finally {
      await target.stop();
    }
  });
});
