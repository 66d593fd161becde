/**
 * `npm run bench:scale`: the local service (embedded engine, data on disk) grown to FLEET devices
 * (default 20,000) through the HTTP API, measured at 1,000 devices and at FLEET in one run: p50/p99
 * and items read of GET, lists (all, tag, indexed metadata value, sort by id), statistics (all, DMS,
 * indexed metadata), the metadata distribution, the forecast, a sweep with 1% due, and the service's
 * RSS. The service runs in this process (its repository counts the items read), started with the
 * heap flags of `npm start` (package.json); the fleet is registered by a separate process
 * (fixtures/scale-fleet.ts), so the RSS is the service's and not a load generator's. Targets (FLEET / 1,000): indexed
 * metadata list and stats ≤ 1.3×, forecast ≤ 1.3×, sweep
 * reads per due device ≤ 1.2×; RSS after registering ≤ 400 MB.
 */
import '../local/env-defaults';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { services } from '../functions/composition/composition';
import { startLocalService } from '../local/main';
import { certificate } from '../test/support/certificates';
import { FIRMWARE, scaleDeviceId, TAGS } from './fixtures/scale-fleet';
import { fmt, inParallel, memoryOf, percentile, printTable } from './support';

const FLEET = Number(process.env.FLEET ?? 20000);
const SMALL = 1000;
const SAMPLES = 25;
const CONCURRENCY = 16;
const DAY = 86_400_000;

interface Row {
  p50: number;
  p99: number;
  items: number;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'scale-'));
  const service = await startLocalService({
    env: {
      DATA_DIR: join(dataDir, 'db'),
      PORT: '0',
      TABLE_NAME: 'scale',
      SWEEP_INTERVAL_SECONDS: '86400',
      INDEXED_METADATA_KEYS: 'firmware_version,location',
      LOCAL_EVENTS_FILE: '',
      STATS_READ_BUDGET: '1000000',
    },
    quiet: true,
  });
  await service.sweepNow();
  const repository = services().repository as unknown as { itemsRead: number };
  const api = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${service.url}${path}`, init);
    const body = (await res.json()) as unknown;
    if (res.status >= 300) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  const post = (path: string, body: unknown, method = 'POST') =>
    api(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  let registered = 0;
  const started = performance.now();
  /** Registers devices registered..size-1 from a separate process (fixtures/scale-fleet.ts). */
  async function growTo(size: number) {
    const from = registered;
    const driver = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'fixtures/scale-fleet.ts'),
        service.url,
        String(from),
        String(size),
        String(CONCURRENCY),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    driver.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const match of chunk.matchAll(/registered (\d+)/g)) {
        registered = from + Number(match[1]);
        process.stdout.write(
          `\rregistered ${registered}/${FLEET} ` +
            `(${(registered / ((performance.now() - started) / 1000)).toFixed(0)}/s) ` +
            `  `,
        );
      }
    });
    const code = await new Promise<number | null>((done) => driver.once('exit', done));
    if (code !== 0) throw new Error(`registering devices ${from}..${size - 1} failed (exit ${code})`);
    registered = size;
  }

  /** 1% of the fleet gets an identity whose renewal boundary (expiry − 60 days) passes within seconds. */
  async function makeDue(size: number): Promise<number> {
    const count = Math.max(1, Math.floor(size / 100));
    // Far enough ahead that every bind lands before it (a loaded machine binds slowly).
    const boundary = Date.now() + 5_000 + count * 150;
    await inParallel(
      Array.from({ length: count }, (_, i) => i),
      8,
      async (i) => {
        const id = scaleDeviceId(Math.floor((i * size) / count));
        await post(
          `/v2/devices/${id}/idslot`,
          { certificate: (await certificate({ notAfter: new Date(boundary + 60 * DAY + i) })).pem },
          'PUT',
        );
      },
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, boundary + 1000 - Date.now())));
    return count;
  }

  async function measure(size: number): Promise<Map<string, Row>> {
    const rows = new Map<string, Row>();
    const due = await makeDue(size);
    const sample = async (name: string, path: (i: number) => string) => {
      const latencies: number[] = [];
      let items = 0;
      for (let i = 0; i < SAMPLES; i++) {
        const before = repository.itemsRead;
        const t = performance.now();
        await api(path(i));
        latencies.push(performance.now() - t);
        items += repository.itemsRead - before;
      }
      latencies.sort((a, b) => a - b);
      rows.set(name, { p50: percentile(latencies, 50), p99: percentile(latencies, 99), items: items / SAMPLES });
    };
    await sample('GET device', (i) => `/v2/devices/${scaleDeviceId((i * 7919) % size)}`);
    await sample('list all', () => '/v2/devices?page_size=25');
    await sample('list tag', (i) => `/v2/devices?page_size=25&filter=tags[ct]${TAGS[i % TAGS.length]}`);
    await sample(
      'list indexed metadata',
      (i) => `/v2/devices?page_size=25&filter=metadata.firmware_version[eq]${FIRMWARE[i % FIRMWARE.length]}`,
    );
    await sample('list sort by id', () => '/v2/devices?page_size=25&sort_by=id');
    await sample('stats all', () => '/v2/stats/devices');
    await sample('stats DMS', (i) => `/v2/stats/devices?filter=dms_owner[eq]dms-${i % 20}`);
    await sample('stats indexed metadata', (i) => `/v2/stats/devices?filter=metadata.location[eq]Building-${i % 50}`);
    await sample('metadata distribution', () => '/v2/stats/metadata/location');
    await sample('forecast (week, 90 d)', () => '/v2/stats/expirations');
    const before = repository.itemsRead;
    const t = performance.now();
    const report = await service.sweepNow();
    rows.set('sweep 1% due (per due device)', {
      p50: performance.now() - t,
      p99: NaN,
      items: (repository.itemsRead - before) / Math.max(1, report.due),
    });
    if (report.due < due) console.log(`\nsweep at ${size}: ${report.due} due of ${due} expected`);
    return rows;
  }

  await growTo(SMALL);
  const small = await measure(SMALL);
  await growTo(FLEET);
  const registerSeconds = (performance.now() - started) / 1000;
  const memory = memoryOf('self');
  const heap = process.memoryUsage();
  console.log(
    `\nregistered ${FLEET} devices through the API in ${registerSeconds.toFixed(0)} ` +
      `s (${(FLEET / registerSeconds).toFixed(0)}/s, ${CONCURRENCY} ` +
      `in flight); service RSS ${memory.rss.toFixed(0)} MB (anonymous ` +
      `${memory.anon.toFixed(0)}, file-backed ${memory.file.toFixed(0)}; ` +
      `peak ${memory.peak.toFixed(0)}), V8 heap ${(heap.heapUsed / 2 ** 20).toFixed(0)} ` +
      `MB used of ${(heap.heapTotal / 2 ** 20).toFixed(0)} MB committed ` +
      `(limit ${(getHeapStatistics().heap_size_limit / 2 ** 20).toFixed(0)} ` +
      `MB)`,
  );
  const large = await measure(FLEET);

  const rows = [...small.keys()].map((name) => {
    const a = small.get(name)!;
    const b = large.get(name)!;
    return [name, a.p50, a.p99, a.items, b.p50, b.p99, b.items, a.items > 0 ? b.items / a.items : NaN];
  });
  printTable(
    `Scale: ${SMALL} vs ${FLEET} devices (ms; items read per request)`,
    [
      'request',
      `p50 ${SMALL}`,
      `p99 ${SMALL}`,
      `items ${SMALL}`,
      `p50 ${FLEET}`,
      `p99 ${FLEET}`,
      `items ${FLEET}`,
      'items ratio',
    ],
    rows,
  );
  const ratio = (name: string) => large.get(name)!.items / small.get(name)!.items;
  console.log(
    `targets: indexed metadata list ${fmt(ratio('list indexed metadata'))}× ` +
      `and stats ${fmt(ratio('stats indexed metadata'))}× (≤ 1.3), forecast ` +
      `${fmt(ratio('forecast (week, 90 d)'))}× (≤ 1.3), sweep reads/due ` +
      `${fmt(ratio('sweep 1% due (per due device)'))}× (≤ 1.2), RSS ` +
      `${memory.rss.toFixed(0)} MB (≤ 400)`,
  );
  await service.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
