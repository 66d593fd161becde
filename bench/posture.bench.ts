/**
 * `npm run bench:posture`, the whole posture bench in one script (docs/benchmarks.md):
 * 1. the inventory, its drill-down page, the findings' open counts and a check's page at FLEET devices
 *    against BASE (default 1,000 against 300; the target compares 100,000 with 1,000:
 *    `FLEET=100000 BASE=1000`), items read and latency ratio (target ≤ 1.3×). Two fleets on one engine,
 *    data on disk: one of BASE devices, one grown to each of CHECKPOINTS, then to FLEET, both asked in
 *    turns at every size (a run cut short still printed its largest size). `POSTURE_KEEP_DATA=1` keeps the
 *    data folder; `POSTURE_DATA=<folder>` asks the two fleets it holds again, as they are, without seeding;
 * 2. the write units the inventory adds to a bind, billed by bench:cost's rules (bench/capacity.ts;
 *    target ≤ 4 WCU);
 * 3. remediation jobs (bench/posture-jobs.bench.ts, BENCH_JOB_FLEET devices, default here 2,000):
 *    devices per second and items read per device (target ≤ 3), by filter and by finding;
 * 4. kill -9 of the local service mid-job and a restart: no device done twice (the soak test
 *    test/e2e/job-crash.soak.test.ts, run as a child). `SKIP_JOBS=1` / `SKIP_CRASH=1` leave 3 / 4 out.
 *
 * Faithful seeding: nothing is written by hand. Every device is registered by the service's
 * `registerNew` (the server-side import's batches) and bound by `bind`, the use case behind
 * `PUT /v2/devices/{id}/idslot`, with the posture and inventory on: the device, its entries, the slot
 * version with the drill-down attributes, its findings and outbox records are what a fleet's binds
 * write; the counters and findings counts are the real counter applier's (with the shared-findings
 * reconciler, as the stream consumer runs them), fed by the engine's stream and drained before each
 * measurement. Only the HTTP edge is skipped (it adds no item).
 */
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { parseCertificate, type ParsedCertificate } from '../functions/domain/certificate';
import { compileCriterion, splitFilterParam, type Filter } from '../functions/domain/filters';
import { INVENTORY_DIMENSIONS } from '../functions/domain/inventory';
import { DEFAULT_POSTURE_POLICY } from '../functions/domain/posture';
import { certificate, newKeyPair, type TestAlgorithm } from '../test/support/certificates';
import type { Engine } from '@device-manager/local-engine';
import { freshTable, startCounters, startTestEngine } from '../test/support/dynamo';
import { meterClient } from './capacity';
import { fleetCertificates, seedDevices, setup, SHARDS } from './fixtures/posture-fleet';
import { fmt, percentile, printTable } from './support';

process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_REGION ??= 'us-east-1';

const FLEET = Number(process.env.FLEET ?? 1000);
// At least 250: one device in ten holds the weak (EC-P384) certificate, so a page of 25 is full at both sizes.
const BASE = Number(process.env.BASE ?? 300);
const REPS = Number(process.env.REPS ?? 15);
/** Processes that seed the fleet at once (bench/fixtures/posture-fleet.ts); 1: this one. */
const SEED_PROCESSES = Number(process.env.SEED_PROCESSES ?? 2);
/** Devices registered and bound at once while seeding (all processes together). */
const SEED_CONCURRENCY = Number(process.env.SEED_CONCURRENCY ?? 16);
/** Sizes between BASE and FLEET also measured on the way (`CHECKPOINTS=10000,30000`). */
const CHECKPOINTS = (process.env.CHECKPOINTS ?? '').split(',').filter(Boolean).map(Number);

/** The weak hash of this bench's policy, and the drill-down filter of the devices holding it. */
const WEAK_HASHES = [...DEFAULT_POSTURE_POLICY.weak_signature_hashes, 'SHA384'];
const DRILL_DOWN = 'identity.key[eq]EC-P384';

/** A small pool of certificates, for the write units of a bind and a re-bind (same key pair and issuer). */
async function pool(): Promise<ParsedCertificate[]> {
  const plan: [TestAlgorithm, string][] = [
    ['RSA-2048', 'CN=Legacy CA'],
    ...Array.from({ length: 6 }, (): [TestAlgorithm, string] => ['EC-P256', 'CN=Fleet CA']),
    ...Array.from({ length: 3 }, (): [TestAlgorithm, string] => ['EC-P384', 'CN=Fleet CA']),
  ];
  const keys = new Map<TestAlgorithm, Awaited<ReturnType<typeof newKeyPair>>>();
  const out: ParsedCertificate[] = [];
  for (const [algorithm, subject] of plan) {
    if (!keys.has(algorithm)) keys.set(algorithm, await newKeyPair(algorithm));
    const notAfter = new Date(Date.now() + 300 * 86_400_000);
    out.push(parseCertificate((await certificate({ algorithm, keys: keys.get(algorithm), subject, notAfter })).pem));
  }
  return out;
}

const filter = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter').filter!;

type Question = [string, () => Promise<unknown>, () => number];

/**
 * A fleet on its own table of `engine`, grown in steps (as bench:scale grows its fleet): `grow(size)`
 * seeds devices up to `size`; `questions` are the posture questions with their items-read counters.
 */
async function growingFleet(engine: Engine, certificates: (i: number) => ParsedCertificate, kept?: string) {
  const table = kept
    ? { engine, tableName: kept, documentClient: createDocumentClient({ endpoint: engine.endpoint }) }
    : await freshTable(engine);
  const { repository, service, insights, postureTable, findings, walk, reconcile } = setup(table);
  // The counter applier with the shared-findings reconciler, as the stream consumer runs them.
  const counters = startCounters(table, SHARDS, reconcile);
  let size = 0;
  if (kept) {
    // A fleet a previous run kept: its size is its inventory's total (every device holds an identity).
    await counters.settle();
    size = (await insights.certificateInventory({ by: 'key', slot: 'identity' })).total;
  } else {
    await repository.backfillIndexes(Date.now() + 60_000, 100);
    // SHA-384 is weak under this policy: one device in ten has `weak-signature` open. Assessed before any device.
    await findings.putPolicy({ ...DEFAULT_POSTURE_POLICY, weak_signature_hashes: WEAK_HASHES });
    await walk();
  }

  /**
   * Seeds devices size..to-1 (bench/fixtures/posture-fleet.ts: the real registration and bind use
   * cases), in SEED_PROCESSES processes of their own or in this one; then the counter applier has
   * applied the stream, as it has behind a deployed table.
   */
  async function grow(to: number) {
    const from = size;
    const seeding = performance.now();
    let bound = from;
    const progress = () => {
      if (++bound % 5_000 === 0) console.log(`  bound ${bound} of ${to} (${new Date().toISOString().slice(11, 19)})`);
    };
    if (SEED_PROCESSES <= 1) await seedDevices(service, certificates, from, to, SEED_CONCURRENCY, progress);
    else {
      const part = Math.ceil((to - from) / SEED_PROCESSES);
      const ranges = Array.from({ length: SEED_PROCESSES }, (_, p) => [
        from + p * part,
        Math.min(to, from + (p + 1) * part),
      ]);
      await Promise.all(
        ranges.map(async ([start, end]) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', join(__dirname, 'fixtures/posture-fleet.ts'), engine.endpoint, table.tableName].concat([
              String(start),
              String(end),
              String(Math.ceil(SEED_CONCURRENCY / SEED_PROCESSES)),
            ]),
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            for (const _ of chunk.matchAll(/bound \d+/g)) for (let k = 0; k < 1000; k++) progress();
          });
          const code = await new Promise<number | null>((done) => child.once('exit', done));
          if (code !== 0) throw new Error(`seeding devices ${start}..${end! - 1} failed (exit ${code})`);
        }),
      );
    }
    await counters.settle();
    size = to;
    const seconds = (performance.now() - seeding) / 1000;
    console.log(
      `seeded devices ${from}..${to - 1} in ${fmt(seconds)} s ` +
        `(${fmt((to - from) / seconds)} devices/s, ${Math.max(1, SEED_PROCESSES)} seeding process(es))`,
    );
  }

  const devicesRead = () => repository.itemsRead;
  const postureRead = () => postureTable.itemsRead;
  const questions: Question[] = [
    ...INVENTORY_DIMENSIONS.map(
      (by): Question => [
        `inventory by ${by}`,
        () => insights.certificateInventory({ by, slot: 'identity' }),
        devicesRead,
      ],
    ),
    [
      `drill-down page of 25 (${DRILL_DOWN})`,
      () =>
        service.list({
          filters: [filter(DRILL_DOWN)],
          sortBy: 'creation_timestamp',
          sortMode: 'asc',
          pageSize: 25,
        }),
      devicesRead,
    ],
    ['findings: open count per check', () => findings.openCounts(), postureRead],
    ['findings: page of 25 (weak-signature)', () => findings.findings('weak-signature', 25), postureRead],
  ];

  return { grow, questions, stop: () => counters.stop(), size: () => size };
}

/**
 * Items read and latency of each question on two fleets of one engine, asked in turns (ABBA), so
 * both sizes see the same machine load: the medians and the median of the per-pair ratios.
 */
async function compare(small: Question[], large: Question[]) {
  const rows: { what: string; items: [number, number]; ms: [number, number]; ratio: number }[] = [];
  const timed = async ([, question, read]: Question) => {
    const before = read();
    const t = performance.now();
    await question();
    return { ms: performance.now() - t, items: read() - before };
  };
  for (let q = 0; q < small.length; q++) {
    const pair = [small[q]!, large[q]!] as const;
    await timed(pair[0]); // warm
    await timed(pair[1]);
    const times: [number[], number[]] = [[], []];
    const items: [number, number] = [0, 0];
    const ratios: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      const got: number[] = [];
      for (const side of order) {
        const { ms, items: read } = await timed(pair[side]!);
        times[side]!.push(ms);
        items[side] = read;
        got[side] = ms;
      }
      ratios.push(got[1]! / got[0]!);
    }
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    rows.push({ what: pair[0][0], items, ms: [median(times[0]), median(times[1])], ratio: median(ratios) });
  }
  return rows;
}

/**
 * Write units of a first bind and of a renewal with the whole posture (the inventory and the checks:
 * findings, shared fingerprints), without the inventory, and without either.
 */
async function bindUnits(certificates: ParsedCertificate[]) {
  const engine = await startTestEngine();
  const out: Record<string, { bind: number; renew: number; rsa: number }> = {};
  const configs = { all: [true, true], checks: [false, true], none: [false, false] } as const;
  for (const [name, [inventory, checks]] of Object.entries(configs)) {
    const table = await freshTable(engine);
    const client = createDocumentClient({ endpoint: engine.endpoint });
    const raw = createDocumentClient({ endpoint: engine.endpoint });
    const meter = meterClient(client, raw, table.tableName);
    const { repository, service, findings, walk } = setup(table, client, inventory, checks);
    await repository.backfillIndexes(Date.now() + 60_000, 100);
    if (checks) {
      // Assessed before the device: its bind judges its slots (the posture's usual state).
      await findings.putPolicy(DEFAULT_POSTURE_POLICY);
      await walk();
    }
    // A device of about 2 KB with two tags, as bench:cost measures.
    const metadata = { firmware_version: '1.4.2', location: 'Building-1', notes: 'x'.repeat(1400) };
    await service.register({ id: 'd', dms_id: 'dms-1', tags: ['line-3', 'sensor'], metadata });
    meter.reset();
    await service.bind('d', 'identity', { type: 'x509', certificate: certificates[1]! });
    const bind = meter.wcu;
    meter.reset();
    // Another certificate of the same key pair and issuer (RENEWED); generated in the same second, so its
    // expiration, every entry's sort key, may not move: the row says a re-bind, not a renewal.
    await service.bind('d', 'identity', { type: 'x509', certificate: certificates[2]! });
    const renew = meter.wcu;
    // An RSA-2048 certificate: its slot version item is larger (the drill-down entry's attributes on it
    // cross a kilobyte boundary, or not, depending on the certificate's size).
    await service.register({ id: 'r', dms_id: 'dms-1', tags: ['line-3', 'sensor'], metadata });
    meter.reset();
    await service.bind('r', 'identity', { type: 'x509', certificate: certificates[0]! });
    out[name] = { bind, renew, rsa: meter.wcu };
    client.destroy();
    raw.destroy();
  }
  await engine.stop();
  return out;
}

async function main() {
  const certificates = await pool();
  const fleet = await fleetCertificates();
  // Data on disk (LevelDB, as `npm start` and bench:scale): a 100,000-device fleet does not sit in the heap.
  // POSTURE_DATA: the folder of a run kept with POSTURE_KEEP_DATA=1, whose two fleets are asked again as they are.
  const kept = process.env.POSTURE_DATA;
  const dataDir = kept ?? mkdtempSync(join(tmpdir(), 'posture-'));
  const engine = await startTestEngine({ dataDir });
  let small: Awaited<ReturnType<typeof growingFleet>>;
  let growing: typeof small;
  if (kept) {
    const client = new DynamoDBClient({ endpoint: engine.endpoint });
    const names = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
    client.destroy();
    const fleets = await Promise.all(names.map((name) => growingFleet(engine, fleet, name)));
    if (fleets.length !== 2) throw new Error(`${dataDir} holds ${fleets.length} tables, not a run's two fleets`);
    [small, growing] = fleets.sort((a, b) => a.size() - b.size()) as [typeof small, typeof small];
  } else {
    small = await growingFleet(engine, fleet);
    await small.grow(BASE);
    growing = await growingFleet(engine, fleet);
  }
  // Each checkpoint prints its table: a run cut short still reports the largest size it reached.
  let rows: (string | number)[][] = [];
  const sizes = kept ? [growing.size()] : [...CHECKPOINTS.filter((c) => c > BASE && c < FLEET), FLEET];
  for (const size of sizes) {
    if (!kept) await growing.grow(size);
    const base = small.size();
    rows = (await compare(small.questions, growing.questions)).map(({ what, items, ms, ratio }) => [
      what,
      items[0],
      items[1],
      fmt(items[1] / Math.max(1, items[0])),
      fmt(ms[0]),
      fmt(ms[1]),
      fmt(ratio),
    ]);
    printTable(
      `Certificate inventory: ${base} vs ${size} devices (${SHARDS} shards, median of ${REPS} turns; ` +
        `load average ${loadavg()[0]!.toFixed(1)})`,
      ['question', `items @${base}`, `items @${size}`, 'items ratio', `ms @${base}`, `ms @${size}`, 'ms ratio'],
      rows,
    );
  }
  await small.stop();
  await growing.stop();
  await engine.stop();
  if (kept || process.env.POSTURE_KEEP_DATA) console.log(`data kept in ${dataDir} (POSTURE_DATA=${dataDir})`);
  else rmSync(dataDir, { recursive: true, force: true });
  const units = await bindUnits(certificates);
  const { all, checks, none } = units as Record<
    'all' | 'checks' | 'none',
    { bind: number; renew: number; rsa: number }
  >;
  const row = (what: string, of: 'bind' | 'renew' | 'rsa') => [
    what,
    all[of],
    checks[of],
    none[of],
    all[of] - none[of],
    all[of] - checks[of],
    checks[of] - none[of],
  ];
  printTable(
    'Write units of a bind (2 KB device, 2 tags; bench/capacity.ts rules)',
    ['bind', 'posture', 'no inventory', 'no posture', 'added', 'inventory', 'checks'],
    [
      row('first bind (PROVISIONED), EC-P256', 'bind'),
      row('re-bind (same key, issuer; RENEWED)', 'renew'),
      row('first bind (PROVISIONED), RSA-2048', 'rsa'),
    ],
  );
  const worst = Math.max(...rows.map((r) => Number(r[3])));
  const worstMs = Math.max(...rows.map((r) => Number(r[6])));
  console.log(
    `target: items read ratio ≤ 1.3 → ${fmt(worst)} (latency ratio ${fmt(worstMs)}); ` +
      `WCU added to a first bind ≤ 4 → ${all.bind - none.bind} (EC-P256), ${all.rsa - none.rsa} (RSA-2048)`,
  );
  const child = (command: string, args: string[], env: Record<string, string>) =>
    spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status;
  if (!process.env.SKIP_JOBS) {
    const jobs = process.env.BENCH_JOB_FLEET ?? '2000';
    console.log(`\nRemediation jobs over ${jobs} devices (bench/posture-jobs.bench.ts)`);
    if (child('npx', ['tsx', 'bench/posture-jobs.bench.ts'], { BENCH_JOB_FLEET: jobs }) !== 0) process.exitCode = 1;
  }
  if (!process.env.SKIP_CRASH) {
    console.log('\nkill -9 mid-job and a restart (test/e2e/job-crash.soak.test.ts)');
    const status = child('npx', ['jest', '-c', 'jest.soak.config.js', 'test/e2e/job-crash.soak.test.ts'], {});
    console.log(`kill -9 mid-job: ${status === 0 ? 'every device changed exactly once, counts exact' : 'FAILED'}`);
    if (status !== 0) process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
