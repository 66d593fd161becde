/**
 * `npm run bench:contention`: 64 concurrent writers against the local service for 20 s in three
 * patterns, with the embedded engine serialising conflicts (its default) and then emulating them as
 * DynamoDB does (ENGINE_CONFLICTS=emulate, docs/local-engine.md):
 *
 * - one DMS: decommissions of devices that all belong to one DMS (each transaction checks the DMS
 *   policy item and counts in the DMS's statistics);
 * - one metadata value: PATCHes that flip an indexed metadata key of devices spread over 100 DMSs
 *   between two values (each moves the device between the two values' counters);
 * - whole fleet: registrations spread over 100 DMSs (each counts in the fleet's statistics).
 *
 * Prints changes/s, engine conflicts, retries per change and 503s for each pattern and mode, and the
 * targets with emulation on: no 503, at most 0.1 retries per change, changes/s at least 0.8× off.
 * `--seconds N` (or BENCH_SECONDS) shortens the runs, `--writers N` (or BENCH_WRITERS) changes the
 * concurrency, and BENCH_CONFLICT_WINDOW_MS keeps each emulated transaction in flight that long.
 */
import './silent-logs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ConflictCounts } from '@device-manager/local-engine';
import { startLocalService, type LocalService } from '../local/main';
import { fmt, inParallel, printTable } from './support';

function option(name: string, env: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const text = at >= 0 ? process.argv[at + 1] : process.env[env];
  const value = text === undefined ? fallback : Number(text);
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`--${name} must be a positive integer`);
  return value;
}

const SECONDS = option('seconds', 'BENCH_SECONDS', 20);
const WRITERS = option('writers', 'BENCH_WRITERS', 64);
const WINDOW_MS = process.env.BENCH_CONFLICT_WINDOW_MS ?? '0';
/** Devices whose metadata value flips (spread over `DMS_COUNT` DMSs). */
const METADATA_FLEET = 500;
const DMS_COUNT = 100;
/** Decommissions the one-DMS pattern may need per second (the pool is seeded before the run). */
const POOL_PER_SECOND = 60;
const SEED_CONCURRENCY = 4;

interface Outcome {
  changes: number;
  unavailable: number;
  otherErrors: number;
  seconds: number;
  conflicts: number;
  exhausted: boolean;
}

type Api = (method: string, path: string, body?: unknown, contentType?: string) => Promise<number>;

function client(service: LocalService): { api: Api; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: WRITERS + 8 });
  const { port } = new URL(service.url);
  const firstErrors = new Set<string>();
  const api: Api = (method, path, body, contentType = 'application/json') =>
    new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          agent,
          headers: body === undefined ? {} : { 'content-type': contentType },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            // One line per kind of failure, so that a failing run says why.
            const kind = `${status} ${text.slice(0, 160)}`;
            if (status >= 400 && status !== 503 && !firstErrors.has(kind) && firstErrors.size < 5) {
              firstErrors.add(kind);
              console.error(`  ${method} ${path}: ${kind}`);
            }
            resolve(status);
          });
        },
      );
      // A keep-alive socket the server closed as it was reused: status 0, counted and retried by callers.
      req.on('error', () => resolve(0));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  return { api, close: () => agent.destroy() };
}

const totalConflicts = (c: ConflictCounts) => c.transactionsCancelled + c.readsCancelled + c.writesRejected;

/** Registers devices, retrying a 503 or a lost connection (seeding runs before the measurement, in both modes). */
async function seed(api: Api, devices: { id: string; dms_id: string; metadata?: object }[]): Promise<void> {
  await inParallel(devices, SEED_CONCURRENCY, async (device) => {
    for (let attempt = 0; ; attempt++) {
      const status = await api('POST', '/v2/devices', device);
      // 409 after a retry: the lost answer's registration went through.
      if (status === 201 || (status === 409 && attempt > 0)) return;
      if ((status !== 503 && status !== 0) || attempt > 20) throw new Error(`seeding ${device.id}: ${status}`);
    }
  });
}

/** `WRITERS` writers call `change(n)` (n counts up across writers) until the time is up or it returns undefined. */
async function run(service: LocalService, change: (n: number) => Promise<number> | undefined): Promise<Outcome> {
  const before = totalConflicts(service.engine!.conflicts);
  const outcome: Outcome = { changes: 0, unavailable: 0, otherErrors: 0, seconds: 0, conflicts: 0, exhausted: false };
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < deadline) {
        const call = change(next++);
        if (!call) {
          outcome.exhausted = true;
          return;
        }
        const status = await call;
        if (status >= 200 && status < 300) outcome.changes++;
        else if (status === 503) outcome.unavailable++;
        else outcome.otherErrors++;
      }
    }),
  );
  outcome.seconds = (performance.now() - started) / 1000;
  outcome.conflicts = totalConflicts(service.engine!.conflicts) - before;
  return outcome;
}

async function measureMode(emulate: boolean): Promise<Map<string, Outcome>> {
  const service = await startLocalService({
    env: {
      IN_MEMORY: 'true',
      PORT: '0',
      TABLE_NAME: `contention-${emulate ? 'emulate' : 'serialise'}`,
      SWEEP_INTERVAL_SECONDS: '0',
      INDEXED_METADATA_KEYS: 'fw',
      ENGINE_CONFLICTS: emulate ? 'emulate' : 'serialise',
      ENGINE_CONFLICT_WINDOW_MS: WINDOW_MS,
    },
    quiet: true,
  });
  const { api, close } = client(service);
  const results = new Map<string, Outcome>();
  try {
    const poolSize = POOL_PER_SECOND * SECONDS;
    console.log(`${emulate ? 'emulate' : 'serialise'}: seeding ${poolSize} + ${METADATA_FLEET} devices…`);
    const pool = Array.from({ length: poolSize }, (_, i) => ({ id: `hot-${i}`, dms_id: 'dms-hot' }));
    const fleet = Array.from({ length: METADATA_FLEET }, (_, i) => ({
      id: `fw-${i}`,
      dms_id: `dms-${i % DMS_COUNT}`,
      metadata: { fw: 'v1' },
    }));
    await seed(api, [...pool, ...fleet]);
    await service.events.drain();

    results.set(
      'one DMS (decommission)',
      await run(service, (n) => (n < poolSize ? api('DELETE', `/v2/devices/hot-${n}`) : undefined)),
    );
    await service.events.drain();
    // Each device flips between v1 and v2; writers take devices round-robin, so no two writers
    // change the same device at once (WRITERS < METADATA_FLEET).
    const values = new Map<number, string>();
    results.set(
      'one metadata value (PATCH)',
      await run(service, (n) => {
        const i = n % METADATA_FLEET;
        const value = values.get(i) === 'v2' ? 'v1' : 'v2';
        return api('PATCH', `/v2/devices/fw-${i}`, { metadata: { fw: value } }, 'application/merge-patch+json').then(
          (status) => {
            if (status === 200) values.set(i, value);
            return status;
          },
        );
      }),
    );
    await service.events.drain();
    results.set(
      'whole fleet (register)',
      await run(service, (n) => api('POST', '/v2/devices', { id: `new-${n}`, dms_id: `dms-${n % DMS_COUNT}` })),
    );
  } finally {
    close();
    await service.stop();
  }
  return results;
}

async function main() {
  console.log(`${WRITERS} writers, ${SECONDS} s per pattern, conflict window ${WINDOW_MS} ms when emulated`);
  const off = await measureMode(false);
  const on = await measureMode(true);
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  for (const [pattern, serialised] of off) {
    const emulated = on.get(pattern)!;
    for (const [mode, o] of [
      ['off', serialised],
      ['on', emulated],
    ] as const) {
      const perSecond = o.changes / o.seconds;
      // A cancelled attempt is retried unless it was the last one of a request answered 503.
      const retries = Math.max(0, o.conflicts - o.unavailable);
      rows.push([
        pattern,
        mode,
        perSecond,
        String(o.changes),
        String(o.conflicts),
        o.changes ? retries / o.changes : 0,
        String(o.unavailable),
        String(o.otherErrors),
        o.exhausted ? `pool used up after ${fmt(o.seconds)} s` : '',
      ]);
    }
    const ratio = emulated.changes / emulated.seconds / (serialised.changes / serialised.seconds);
    const retries = Math.max(0, emulated.conflicts - emulated.unavailable) / Math.max(1, emulated.changes);
    const met = emulated.unavailable === 0 && retries <= 0.1 && ratio >= 0.8;
    verdicts.push(
      `${pattern}: on/off ${fmt(ratio)}×, retries/change ${fmt(retries)}, 503s ${emulated.unavailable}: ` +
        `${met ? 'targets met' : 'targets NOT met'}`,
    );
  }
  printTable(
    'Contention (emulation off = conflicts serialised; on = ENGINE_CONFLICTS=emulate)',
    ['pattern', 'emulation', 'changes/s', 'changes', 'conflicts', 'retries/change', '503s', 'other errors', 'note'],
    rows,
  );
  console.log('\nTargets with emulation on: no 503, retries/change ≤ 0.1, changes/s ≥ 0.8× off');
  for (const line of verdicts) console.log(`- ${line}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
