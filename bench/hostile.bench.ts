/**
 * `npm run bench:hostile`: what a hostile request costs.
 *
 * 1. Against the local service (its own process, one event loop for every request, the embedded
 *    engine in it): each hostile request's time as a ratio to a normal request on the same route
 *    (target ≤ 3×), and how long a normal request on that route takes while hostile ones run back to
 *    back (one in flight), as a ratio to its time alone (target ≤ 1.5×), beside the same ratio under
 *    a load of normal requests (what any concurrent request costs on the machine).
 * 2. As deployed, where each Lambda execution environment serves one request at a time, so a hostile
 *    request slows no other and what counts is its own cost against the function's bounds: the API
 *    in a process of its own with the engine in another (as DynamoDB is another service), without
 *    priorities (LOCAL_PRIORITIES=off), one request in flight: each hostile request's time, its
 *    ratio to a normal one, and the process's peak memory over its resident size before (VmHWM
 *    reset through /proc, Linux), against the API functions' 10 s timeout and 512 MB.
 *
 * One run, ratios of medians; sizes are small by default (BENCH_RUNS, BENCH_DEVICES); BENCH_CASES=<text>
 * runs only the cases whose name contains it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { certificate } from '../test/support/certificates';
import { type ChildService, spawnLocalService } from '../test/support/child-service';
import { branchyMetadata, bulkyMetadata, deepJsonText, pemArmor } from '../test/support/hostile';
import { fmt, inParallel, percentile, printTable } from './support';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** Only the cases whose name contains this text (all when unset). */
const ONLY = process.env.BENCH_CASES;
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
  const table = `bench-hostile-${randomUUID()}`;
  const service = await spawnLocalService({ IN_MEMORY: 'true', TABLE_NAME: table });
  let api: ChildService | undefined;
  try {
    // Milliseconds the process's main thread (its event loop) has been on a CPU (Linux schedstat).
    const loopCpu = (pid: number) =>
      Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    // `cpu`: the event loop's CPU time while the request was in flight: its own work and whatever ran
    // between its steps. On a machine where the service has a core to itself, that is its wall time;
    // on a shared, loaded machine, wall times stretch with everything else that runs.
    const sendTo = async (server: { url: string; pid: number }, init: RequestInit & { path: string }) => {
      const { path, ...rest } = init;
      const t = performance.now();
      const c = loopCpu(server.pid);
      const res = await fetch(`${server.url}${path}`, rest);
      await res.arrayBuffer();
      return { ms: performance.now() - t, cpu: loopCpu(server.pid) - c, status: res.status };
    };
    const send = (init: RequestInit & { path: string }) => sendTo(service, init);
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
    // Built once: the client's own work per request stays small beside the service's.
    const armorBody = JSON.stringify({ certificate: pemArmor(240 * 1024) });
    let patchN = 0;

    const allCases: Case[] = [
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
        hostile: json('PUT', '/v2/devices/dev-3/idslot', armorBody),
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

    const cases = allCases.filter((c) => !ONLY || c.name.includes(ONLY));
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const rows: (string | number)[][] = [];
    for (const c of cases) {
      for (let i = 0; i < 3; i++) await send(c.normal()), await send(c.hostile()); // warm-up
      // One background client sends `load` requests back to back (one in flight) while it is set.
      // The columns are measured interleaved, run by run, so that a change of the machine's load
      // (other work on a shared machine) weighs on all of them alike.
      let load: (() => RequestInit & { path: string }) | undefined;
      let started = 0;
      let busy = false;
      let stop = false;
      const background = (async () => {
        while (!stop) {
          const next = load;
          if (!next) {
            await new Promise((resolve) => setTimeout(resolve, 1));
            continue;
          }
          started++;
          busy = true;
          await send(next());
          busy = false;
        }
      })();
      const under = async (next: typeof load) => {
        load = next;
        const from = started;
        // Wait until the load is running (its first request sent) before measuring.
        while (next && started === from) await new Promise((resolve) => setImmediate(resolve));
        const r = await send(c.normal());
        load = undefined;
        while (busy) await new Promise((resolve) => setTimeout(resolve, 1));
        return r;
      };
      type Sample = { ms: number; cpu: number };
      const alone: Sample[] = [];
      const hostile: Sample[] = [];
      const duringHostile: Sample[] = [];
      const duringNormal: Sample[] = [];
      let status = 0;
      for (let i = 0; i < RUNS; i++) {
        alone.push(await send(c.normal()));
        const h = await send(c.hostile());
        hostile.push(h);
        status = h.status;
        duringHostile.push(await under(c.hostile));
        duringNormal.push(await under(c.normal));
      }
      stop = true;
      await background;
      const cpu = (xs: Sample[]) => median(xs.map((x) => x.cpu));
      const wall = (xs: Sample[]) => median(xs.map((x) => x.ms));
      const ratio = cpu(hostile) / cpu(alone);
      const wait = cpu(duringHostile) / cpu(alone);
      rows.push([
        c.name,
        status,
        wall(alone),
        cpu(alone),
        ratio,
        cpu(duringHostile),
        wait,
        cpu(duringNormal) / cpu(alone),
        wall(duringHostile) / wall(alone),
        wall(duringNormal) / wall(alone),
        ratio <= 3 && wait <= 1.5 ? 'yes' : 'no',
      ]);
    }
    printTable(
      `bench:hostile: ${DEVICES} devices, ${RUNS} runs per column, ` +
        'medians in ms; ratios of the event loop CPU time while a request is in flight ' +
        '(targets: hostile/normal ≤ 3, normal during/alone ≤ 1.5); the wall-time ratios beside',
      [
        'case',
        'hostile status',
        'normal alone (wall)',
        'normal alone (loop CPU)',
        'hostile/normal',
        'normal during hostile (loop CPU)',
        'during/alone',
        'during normal load/alone',
        'during/alone (wall)',
        'during normal load/alone (wall)',
        'within targets',
      ],
      rows.map((r) => r.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? fmt(v) : v))),
    );

    // 2. As deployed: the API alone in its process (the engine stays in the first one), one request at a time.
    const endpoint = /embedded DynamoDB engine on (\S+)/.exec(service.output.join('\n'))?.[1];
    if (!endpoint) throw new Error('the service did not say where its engine listens');
    api = await spawnLocalService({
      TABLE_NAME: table,
      DYNAMODB_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      // As in Lambda: no request waits for another, and a heavy one reads in slices of 100.
      LOCAL_PRIORITIES: 'off',
    });
    const alone = api;
    const kb = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${alone.pid}/status`, 'utf8'))?.[1]);
    const deployedRows: (string | number)[][] = [];
    for (const c of cases) {
      for (let i = 0; i < 3; i++) await sendTo(alone, c.normal()), await sendTo(alone, c.hostile());
      const normal: { ms: number; cpu: number }[] = [];
      const hostile: { ms: number; cpu: number }[] = [];
      let status = 0;
      for (let i = 0; i < RUNS; i++) normal.push(await sendTo(alone, c.normal()));
      // The peak resident size while hostile requests run, over the size before them.
      writeFileSync(`/proc/${alone.pid}/clear_refs`, '5');
      const before = kb('VmRSS');
      for (let i = 0; i < RUNS; i++) {
        const h = await sendTo(alone, c.hostile());
        hostile.push(h);
        status = h.status;
      }
      const peakMb = (kb('VmHWM') - before) / 1024;
      const cpu = (xs: { cpu: number }[]) => median(xs.map((x) => x.cpu));
      const ratio = cpu(hostile) / cpu(normal);
      deployedRows.push([
        c.name,
        status,
        median(hostile.map((h) => h.ms)),
        cpu(normal),
        cpu(hostile),
        ratio,
        peakMb,
        ratio <= 3 ? 'yes' : 'no',
      ]);
    }
    printTable(
      `bench:hostile as deployed (one request at a time, the engine in another process): ${RUNS} runs, ` +
        'medians in ms of the function process CPU time (target: hostile/normal ≤ 3; bounds: 10 s, 512 MB)',
      [
        'case',
        'hostile status',
        'hostile (wall)',
        'normal (CPU)',
        'hostile (CPU)',
        'hostile/normal',
        'peak memory over before (MB)',
        'within',
      ],
      deployedRows.map((r) => r.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? fmt(v) : v))),
    );
  } finally {
    api?.kill('SIGTERM');
    await api?.exited;
    service.kill('SIGTERM');
    await service.exited;
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
