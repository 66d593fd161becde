/**
 * `npm run bench:hostile`: what a hostile request costs against the local service (its own
 * process): each one's time as a ratio to a normal request on the same route (target ≤ 3×), and
 * how long a normal request on that route takes while hostile ones run back to back (one in
 * flight), as a ratio to its time alone (target ≤ 1.5×), beside the same ratio under a load of
 * normal requests (what any concurrent request costs on the machine). One run, ratios of medians;
 * sizes are small by default (BENCH_RUNS, BENCH_DEVICES).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { certificate } from '../test/support/certificates';
import { spawnLocalService } from '../test/support/child-service';
import { branchyMetadata, bulkyMetadata, deepJsonText, pemArmor } from '../test/support/hostile';
import { fmt, inParallel, percentile, printTable } from './support';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 300);
const V1 = '/api/devmanager/v1';

interface Case {
  name: string;
  normal: () => RequestInit & { path: string };
  hostile: () => RequestInit & { path: string };
}

const get = (path: string) => () => ({ path, method: 'GET' });
const jp = (expression: string) => encodeURIComponent(`metadata[jsonpath]${expression}`);
const CHAINED = `$${'..*'.repeat(12)}`;

async function main(): Promise<void> {
  const service = await spawnLocalService({ IN_MEMORY: 'true', TABLE_NAME: `bench-hostile-${randomUUID()}` });
  try {
    const send = async (init: RequestInit & { path: string }) => {
      const { path, ...rest } = init;
      const t = performance.now();
      const res = await fetch(`${service.url}${path}`, rest);
      await res.arrayBuffer();
      return { ms: performance.now() - t, status: res.status };
    };
    const json =
      (method: string, path: string, body: string, type = 'application/json') =>
      () => ({ path, method, body, headers: { 'content-type': type } });

    // The fleet: most devices with small metadata, some branchy (what `..*` multiplies over), some of 11 KB.
    await inParallel(
      Array.from({ length: DEVICES }, (_, i) => i),
      4,
      async (i) => {
        const metadata =
          i % 10 === 0
            ? branchyMetadata()
            : i % 15 === 1
              ? bulkyMetadata(11_000, { env: 'prod' })
              : { env: i % 2 ? 'prod' : 'lab', n: i };
        const r = await send(
          json(
            'POST',
            '/v2/devices',
            JSON.stringify({ id: `dev-${i}`, dms_id: `dms-${i % 3}`, tags: ['fleet'], metadata }),
          )(),
        );
        if (r.status !== 201) throw new Error(`seeding answered ${r.status}`);
      },
    );
    const pem = (await certificate({ notAfter: '2030-01-01T00:00:00Z' })).pem;
    let patchN = 0;

    const cases: Case[] = [
      {
        name: 'v1 list, regex JSONPath (400)',
        normal: get(`${V1}/devices?page_size=25&filter=${jp('$.env == "prod"')}`),
        hostile: get(
          `${V1}/devices?page_size=25&filter=${jp('$[?("aaaaaaaaaaaaaaaaaaaaaaaaaaaa!".match(/(a{1,}){1,}b/))]')}`,
        ),
      },
      {
        name: 'v1 list, chained ..* (422)',
        normal: get(`${V1}/devices?page_size=25&filter=${jp('$.env == "prod"')}`),
        hostile: get(`${V1}/devices?page_size=25&filter=${jp(CHAINED)}`),
      },
      {
        name: 'v1 dms list, chained ..* (422)',
        normal: get(`${V1}/devices/dms/dms-0?page_size=25&filter=${jp('$.env == "prod"')}`),
        hostile: get(`${V1}/devices/dms/dms-0?page_size=25&filter=${jp(CHAINED)}`),
      },
      {
        name: 'v1 stats, chained ..* (422)',
        normal: get(`${V1}/stats?filter=${jp('$.env == "prod"')}`),
        hostile: get(`${V1}/stats?filter=${jp(CHAINED)}`),
      },
      {
        name: 'v1 stats, unclosed length( (400)',
        normal: get(`${V1}/stats?filter=${jp('$.env == "prod"')}`),
        hostile: get(`${V1}/stats?filter=${jp(`$[?${'length('.repeat(40)}@.a`)}`),
      },
      {
        name: 'v2 list page_size=1000 (byte budget)',
        normal: get('/v2/devices?page_size=25'),
        hostile: get('/v2/devices?page_size=1000'),
      },
      {
        name: 'idslot, 256 KiB of BEGIN lines (400)',
        normal: json('PUT', '/v2/devices/dev-2/idslot', JSON.stringify({ certificate: pem })),
        hostile: json('PUT', '/v2/devices/dev-3/idslot', JSON.stringify({ certificate: pemArmor(240 * 1024) })),
      },
      {
        name: 'merge patch, metadata 5,000 deep (400)',
        normal: () =>
          json(
            'PATCH',
            '/v2/devices/dev-4',
            JSON.stringify({ metadata: { n: patchN++ } }),
            'application/merge-patch+json',
          )(),
        hostile: json(
          'PATCH',
          '/v2/devices/dev-5',
          `{"metadata":${deepJsonText(5000)}}`,
          'application/merge-patch+json',
        ),
      },
    ];

    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const rows: (string | number)[][] = [];
    for (const c of cases) {
      for (let i = 0; i < 3; i++) await send(c.normal()), await send(c.hostile()); // warm-up
      const alone: number[] = [];
      const hostile: number[] = [];
      let status = 0;
      for (let i = 0; i < RUNS; i++) {
        alone.push((await send(c.normal())).ms);
        const h = await send(c.hostile());
        hostile.push(h.ms);
        status = h.status;
      }
      // A normal request's time while `load` requests run back to back, one in flight: hostile
      // ones, and for contrast normal ones (what any concurrent request costs on this machine).
      const during = async (load: () => RequestInit & { path: string }) => {
        const times: number[] = [];
        let stop = false;
        const attacker = (async () => {
          while (!stop) await send(load());
        })();
        for (let i = 0; i < RUNS; i++) times.push((await send(c.normal())).ms);
        stop = true;
        await attacker;
        return median(times);
      };
      const duringHostile = await during(c.hostile);
      const duringNormal = await during(c.normal);
      const ratio = median(hostile) / median(alone);
      const wait = duringHostile / median(alone);
      rows.push([
        c.name,
        status,
        median(alone),
        median(hostile),
        ratio,
        duringHostile,
        wait,
        duringNormal / median(alone),
        ratio <= 3 && wait <= 1.5 ? 'yes' : 'no',
      ]);
    }
    printTable(
      `bench:hostile: ${DEVICES} devices, ${RUNS} runs per column, ` +
        `medians in ms (targets: hostile/normal ≤ 3, normal during/alone ` +
        `≤ 1.5)`,
      [
        'case',
        'hostile status',
        'normal alone',
        'hostile',
        'hostile/normal',
        'normal during hostile',
        'during/alone',
        'during normal load/alone',
        'within targets',
      ],
      rows.map((r) => r.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? fmt(v) : v))),
    );
  } finally {
    service.kill('SIGTERM');
    await service.exited;
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
