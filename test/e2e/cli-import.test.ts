/**
 * End to end: `device-manager import` against the local service (in-memory engine): a 1,000-row CSV (10,000 in the
 * soak tier)
 * with bad rows mixed in, a re-run, --update, and a run killed midway then resumed.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { certificate } from '../support/certificates';
import { cli, spawnBin, summaryCounts } from '../support/cli';
import { call, startTestService } from '../support/http';
import { bySize } from '../support/tier';
import type { LocalService } from '../../local/main';

jest.setTimeout(600_000);

let service: LocalService;
const dir = mkdtempSync(path.join(tmpdir(), 'cli-import-'));
// certificate files live beside the CSV (their paths resolve against its folder)
mkdirSync(path.join(dir, 'certs'));
/** 500 rows hold every kind of bad row once; the soak tier imports 10,000. */
const ROWS = bySize(500, 10_000);
/** Bad rows sit midway between two multiples of this. */
const BAD_EVERY = bySize(100, 500);
const CERT_EVERY = bySize(100, 1000);

/** Every BAD_EVERY-th row is bad, in turn: a bad colour, a bad id, no DMS, a ragged record, a tag too long. */
const BAD_KINDS = [
  {
    cells: (i: number) => [`dev-${i}`, 'dms-1', 'a', '#zz', '1', ''],
    details: [
      {
        field: 'icon_color',
        problem: 'must be a hex color like #25ee32, or a color-background pair like #0f67ff-#F0F8FF',
      },
    ],
    status: 400,
  },
  {
    cells: () => ['bad id!', 'dms-1', 'a', '', '1', ''],
    details: [{ field: 'id', problem: 'must be 1-128 characters of A-Z a-z 0-9 : _ . -' }],
    status: 400,
  },
  { cells: (i: number) => [`dev-${i}`, '', 'a', '', '1', ''], details: [{ field: 'dms_id' }], status: 400 },
  {
    cells: (i: number) => [`dev-${i}`, 'dms-1'],
    details: [{ field: '(row)', problem: 'has 2 cells, the header has 6' }],
    status: undefined,
  },
  {
    cells: (i: number) => [`dev-${i}`, 'dms-1', 'x'.repeat(129), '', '1', ''],
    details: [{ field: 'tags.0' }],
    status: 400,
  },
];
const isBad = (i: number) => i % BAD_EVERY === BAD_EVERY / 2;
const badKind = (i: number) => BAD_KINDS[Math.floor(i / BAD_EVERY) % BAD_KINDS.length]!;

beforeAll(async () => {
  service = await startTestService();
  const pem = (await certificate({ notAfter: new Date(Date.now() + 365 * 86400_000) })).pem;
  const lines = ['id,dms_id,tags,icon_color,metadata.n,certificate'];
  for (let i = 0; i < ROWS; i++) {
    if (isBad(i)) {
      lines.push(badKind(i).cells(i).join(','));
      continue;
    }
    let cert = '';
    if (i % CERT_EVERY === 0) {
      cert = `certs/dev-${i}.pem`;
      writeFileSync(path.join(dir, 'certs', `dev-${i}.pem`), pem);
    }
    lines.push([`dev-${i}`, `dms-${i % 3}`, `line-${i % 7};batch`, '#112233', String(i), cert].join(','));
  }
  writeFileSync(path.join(dir, 'fleet.csv'), `${lines.join('\n')}\n`);
}, 60_000);
afterAll(async () => {
  await service.stop();
});

const badRows = Array.from({ length: ROWS }, (_, i) => i).filter(isBad);
const good = ROWS - badRows.length;

describe('device-manager import', () => {
  it(
    `imports ${ROWS.toLocaleString('en')} rows: bad rows reported ` +
      `with line number and the API details, the run goes on`,
    async () => {
      const report = path.join(dir, 'report.ndjson');
      const r = await cli([
        'import',
        path.join(dir, 'fleet.csv'),
        '--api',
        service.url,
        '--report',
        report,
        '--progress-interval',
        '1',
      ]);
      expect(r.code).toBe(1);
      expect(summaryCounts(r.stdout)).toEqual({
        created: good,
        unchanged: 0,
        updated: 0,
        conflict: 0,
        invalid: badRows.length,
        failed: 0,
      });
      const lines = readFileSync(report, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: number; outcome: string; status?: number; details: unknown[] });
      lines.sort((a, b) => a.line - b.line);
      expect(lines.map((l) => l.line)).toEqual(badRows.map((i) => i + 2));
      lines.forEach((l, n) => {
        const kind = badKind(badRows[n]!);
        expect(l).toMatchObject({ outcome: 'invalid', details: kind.details });
        expect(l.status).toBe(kind.status);
      });
      expect(r.stderr).toMatch(/^import: \d+ .*\/s/m);
      expect(r.stderr).toContain(`line ${badRows[0]! + 2} (dev-${badRows[0]}): invalid 400 VALIDATION_ERROR`);
      const stats = await call(service.url, 'GET', '/v2/stats/devices');
      expect(stats.body.total).toBe(good);
      expect(stats.body.status_distribution.ACTIVE).toBe(ROWS / CERT_EVERY);
      const device = await call(service.url, 'GET', '/v2/devices/dev-1');
      expect(device.body).toMatchObject({
        dms_owner: 'dms-1',
        tags: ['line-1', 'batch'],
        icon_color: '#112233',
        metadata: { n: 1 },
      });
    },
  );

  it('a re-run of the same file changes nothing: every good row is unchanged', async () => {
    const r = await cli(['import', path.join(dir, 'fleet.csv'), '--api', service.url, '--progress-interval', '0']);
    expect(summaryCounts(r.stdout)).toEqual({
      created: 0,
      unchanged: good,
      updated: 0,
      conflict: 0,
      invalid: badRows.length,
      failed: 0,
    });
    expect(r.code).toBe(1);
    expect((await call(service.url, 'GET', '/v2/devices/dev-1')).body.version).toBe(1);
  });

  it(
    'a device with other content is a conflict, patched under ' + 'If-Match with --update; another DMS never is',
    async () => {
      const file = path.join(dir, 'changed.csv');
      writeFileSync(
        file,
        'id,dms_id,tags,metadata.n\ndev-1,dms-1,relabelled,1\n' +
          'dev-2,dms-2,line-2;batch;new,2\ndev-4,dms-0,line-4;batch,4\n',
      );
      const conflict = await cli([
        'import',
        file,
        '--api',
        service.url,
        '--report',
        path.join(dir, 'conflicts.ndjson'),
      ]);
      expect(conflict.code).toBe(1);
      expect(summaryCounts(conflict.stdout)).toMatchObject({ conflict: 3, updated: 0 });
      const reported = readFileSync(path.join(dir, 'conflicts.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; differences: string[] });
      expect(Object.fromEntries(reported.map((l) => [l.id, l.differences]))).toEqual({
        'dev-1': ['tags'],
        'dev-2': ['tags'],
        'dev-4': ['dms_owner'],
      });

      const updated = await cli(['import', file, '--api', service.url, '--update']);
      expect(summaryCounts(updated.stdout)).toMatchObject({ updated: 2, conflict: 1 });
      const dev1 = await call(service.url, 'GET', '/v2/devices/dev-1');
      expect(dev1.body).toMatchObject({ tags: ['relabelled'], version: 2, metadata: { n: 1 } });
      expect((await call(service.url, 'GET', '/v2/devices/dev-4')).body).toMatchObject({
        dms_owner: 'dms-1',
        version: 1,
      });
      const again = await cli(['import', file, '--api', service.url, '--update']);
      expect(summaryCounts(again.stdout)).toMatchObject({ unchanged: 2, conflict: 1 });
    },
  );

  it('a run killed midway and run again: every row ends created or unchanged', async () => {
    const count = bySize(500, 1500);
    const killAt = bySize(100, 200);
    const file = path.join(dir, 'resume.ndjson');
    writeFileSync(
      file,
      Array.from({ length: count }, (_, i) =>
        JSON.stringify({ id: `res-${i}`, dms_id: 'dms-resume', tags: ['r'], metadata: { i } }),
      ).join('\n'),
    );
    const child = spawnBin(['import', file, '--api', service.url, '--concurrency', '4', '--progress-interval', '0']);
    const exited = once(child, 'exit');
    const resumeTotal = async () =>
      (await call(service.url, 'GET', '/v2/stats/devices?filter=dms_owner[eq]dms-resume')).body.total as number;
    while ((await resumeTotal()) < killAt) {
      if (child.exitCode !== null) throw new Error('the import ended before it could be killed');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    const before = await resumeTotal();
    expect(before).toBeLessThan(count);

    const r = await cli(['import', file, '--api', service.url]);
    const counts = summaryCounts(r.stdout);
    expect(r.code).toBe(0);
    expect(counts.created! + counts.unchanged!).toBe(count);
    expect(counts.unchanged).toBeGreaterThanOrEqual(before);
    expect(counts.created).toBeGreaterThan(0);
    expect(await resumeTotal()).toBe(count);
  });
});
